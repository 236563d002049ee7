import { expect, it } from 'vitest';
import { runFixture } from './helpers.js';

it('after close() nothing of the producer keeps the process alive', async () => {
  const run = await runFixture('close-exits', 20_000);
  // Closing with unconfirmed messages on the memory journal says how many it dropped; nothing else.
  const unexpected = run.stderr
    .split('\n')
    .filter((line) => line !== '' && !/FerryJournalWarning: close dropped \d+ unconfirmed/.test(line))
    .filter((line) => !line.includes('--trace-warnings'));
  expect(unexpected).toEqual([]);
  expect(run.timedOut).toBe(false);
  expect(run.stdout).toContain('closed 7; timers left: 0');
  expect(run.code).toBe(0);
});
