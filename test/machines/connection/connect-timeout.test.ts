/** A connect attempt that takes longer than `connectTimeoutMs` is given up as a transient failure. */
import { describe, expect, it } from 'vitest';
import { connected, connectionHarness, open } from './fixtures.js';

describe('connect timeout', () => {
  it('gives up an attempt after connectTimeoutMs and reconnects', async () => {
    const harness = connectionHarness();
    const { connectTimeoutMs } = harness.actor.getSnapshot().context.settings;
    await harness.apply(open);

    await harness.advance(connectTimeoutMs - 1);
    expect(harness.actor.getSnapshot().value).toBe('connecting');
    expect(harness.isPending('connect')).toBe(true);

    await harness.advance(1);
    const snapshot = harness.actor.getSnapshot();
    expect(snapshot.value).toBe('reconnecting');
    expect(snapshot.context.attempts).toBe(1);
    expect(snapshot.context.lastFailure).toMatchObject({ code: 'CONNECT_TIMEOUT', permanent: false });
    expect(harness.isPending('connect')).toBe(false);
    harness.stop();
  });

  it('counts timeouts against the attempt budget', async () => {
    const harness = connectionHarness();
    const { connectTimeoutMs, maxReconnectAttempts } = harness.actor.getSnapshot().context.settings;
    await harness.apply(open);
    for (let attempt = 1; attempt < maxReconnectAttempts; attempt += 1) {
      await harness.advance(connectTimeoutMs);
      expect(harness.actor.getSnapshot().value).toBe('reconnecting');
      await harness.advance(harness.actor.getSnapshot().context.nextDelayMs);
    }
    await harness.advance(connectTimeoutMs);
    const snapshot = harness.actor.getSnapshot();
    expect(snapshot.value).toBe('failed');
    expect(snapshot.context.attempts).toBe(maxReconnectAttempts);
    expect(harness.invocations).toHaveLength(maxReconnectAttempts);
    harness.stop();
  });

  it('does not fire once the attempt connected in time', async () => {
    const harness = connectionHarness();
    const { connectTimeoutMs } = harness.actor.getSnapshot().context.settings;
    await harness.apply(open);
    await harness.advance(connectTimeoutMs - 1);
    await harness.apply(connected);

    await harness.advance(connectTimeoutMs);
    const snapshot = harness.actor.getSnapshot();
    expect(snapshot.hasTag('connected')).toBe(true);
    expect(snapshot.context.lastFailure).toBeNull();
    harness.stop();
  });
});
