import { expect, it } from 'vitest';
import { runFixture } from './helpers.js';

it('publishing loads neither rxjs nor prom-client; state$ and metrics load them when first used', async () => {
  const run = await runFixture('loaded-packages', 30_000);
  // Closing with unconfirmed messages on the memory journal says how many it dropped; nothing else.
  const unexpected = run.stderr
    .split('\n')
    .filter((line) => line !== '' && !/FerryJournalWarning: close dropped \d+ unconfirmed/.test(line))
    .filter((line) => !line.includes('--trace-warnings'));
  expect(unexpected).toEqual([]);
  expect(run.code).toBe(0);
  const { publishing, observing } = JSON.parse(run.stdout) as { publishing: string[]; observing: string[] };
  expect(publishing).toContain('amqplib');
  expect(publishing).not.toContain('rxjs');
  expect(publishing).not.toContain('prom-client');
  expect(observing).toEqual(expect.arrayContaining(['rxjs', 'prom-client']));
}, 40_000);
