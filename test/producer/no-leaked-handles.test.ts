import { expect, it } from 'vitest';
import { runFixture } from './helpers.js';

it('after close() nothing of the producer keeps the process alive', async () => {
  const run = await runFixture('close-exits', 20_000);
  expect(run.stderr).toBe('');
  expect(run.timedOut).toBe(false);
  expect(run.stdout).toContain('closed 7; timers left: 0');
  expect(run.code).toBe(0);
});
