import { expect, it } from 'vitest';
import { runFixture } from './helpers.js';

it('retrying messages wait for a slow channel reopen instead of spinning', async () => {
  const run = await runFixture('slow-channel-reopen', 10_000);
  expect(run.stderr).toBe('');
  expect(run.timedOut).toBe(false);
  expect(run.stdout).toContain('settled confirmed');
  // One republish once the channel is back, not a storm of failed attempts.
  expect(run.stdout).toContain('publishes on the new channel: 1');
  expect(run.code).toBe(0);
});
