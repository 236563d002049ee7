/**
 * A permanent failure (bad credentials, no vhost access) skips the budget: straight to `failed` at the
 * max delay, and retries stay that far apart however long it lasts.
 */
import { describe, expect, it } from 'vitest';
import { fromPromise } from 'xstate';
import { backoffDelay, type ConnectedEndpoint, type connectionMachine } from '../../../machines/index.js';
import { errorEvent, type MachineHarness } from '../../../src/testing/index.js';
import { accessRefused, connectionHarness, draws, gaps, input, open } from './fixtures.js';

describe('permanent failure', () => {
  it('goes straight to failed with the max delay on the first attempt', async () => {
    const harness = connectionHarness();
    const { reconnect } = harness.actor.getSnapshot().context.settings;
    await harness.apply(open);
    await harness.apply(errorEvent('connect', accessRefused));

    const snapshot = harness.actor.getSnapshot();
    expect(snapshot.value).toBe('failed');
    expect(snapshot.hasTag('unhealthy')).toBe(true);
    expect(snapshot.context.attempts).toBe(1);
    expect(snapshot.context.lastFailure).toEqual(accessRefused);
    const delay = backoffDelay(
      reconnect,
      Number.POSITIVE_INFINITY,
      draws(input.seed)(),
      reconnect.initialDelayMs,
    );
    expect(snapshot.context.nextDelayMs).toBe(delay);
    expect(delay).toBeGreaterThanOrEqual(reconnect.maxDelayMs);
    harness.stop();
  });

  it('does not hot-loop: a broker refusing forever sees one attempt per max delay at most', async () => {
    const attempts: number[] = [];
    let harness: MachineHarness<typeof connectionMachine> | undefined;
    const refuse = fromPromise<ConnectedEndpoint, { readonly attempt: number }>(async () => {
      attempts.push(harness!.clock.now());
      throw accessRefused;
    });
    harness = connectionHarness({}, { connect: refuse });
    const { reconnect } = harness.actor.getSnapshot().context.settings;
    const horizon = 20 * reconnect.maxDelayMs;
    await harness.apply(open);

    const tick = reconnect.initialDelayMs;
    while (harness.clock.now() < horizon) await harness.advance(tick);

    expect(harness.actor.getSnapshot().value).toBe('failed');
    expect(attempts.length).toBeGreaterThan(1);
    expect(attempts.length).toBeLessThanOrEqual(Math.floor(horizon / reconnect.maxDelayMs) + 1);
    for (const gap of gaps(attempts)) expect(gap).toBeGreaterThanOrEqual(reconnect.maxDelayMs);
    harness.stop();
  });
});
