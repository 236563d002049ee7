import { expect, it } from 'vitest';
import { runFixture } from './helpers.js';

it('publishing loads neither rxjs nor prom-client; state$ and metrics load them when first used', async () => {
  const run = await runFixture('loaded-packages', 30_000);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const { publishing, observing } = JSON.parse(run.stdout) as { publishing: string[]; observing: string[] };
  expect(publishing).toContain('amqplib');
  expect(publishing).not.toContain('rxjs');
  expect(publishing).not.toContain('prom-client');
  expect(observing).toEqual(expect.arrayContaining(['rxjs', 'prom-client']));
}, 40_000);
