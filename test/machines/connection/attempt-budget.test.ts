/**
 * Once `maxReconnectAttempts` attempts in a row failed the machine reports `failed` (tag `unhealthy`)
 * and keeps retrying at the policy's maximum delay.
 */
import { describe, expect, it } from 'vitest';
import { backoffDelay, maxBackoffDelay } from '../../../machines/index.js';
import { errorEvent } from '../../../src/testing/index.js';
import { connected, connectionHarness, draws, input, open, refused } from './fixtures.js';

/** `backoffDelay` of an attempt beyond every budget: the capped delay, still jittered. */
const OVER_BUDGET = Number.POSITIVE_INFINITY;

describe('attempt budget', () => {
  it('reports failed after maxReconnectAttempts failures and keeps retrying at the max delay', async () => {
    const harness = connectionHarness();
    const { reconnect, maxReconnectAttempts } = harness.actor.getSnapshot().context.settings;
    const draw = draws(input.seed);
    let previous = reconnect.initialDelayMs;
    await harness.apply(open);

    for (let attempt = 1; attempt < maxReconnectAttempts; attempt += 1) {
      await harness.apply(errorEvent('connect', refused));
      const snapshot = harness.actor.getSnapshot();
      expect(snapshot.value).toBe('reconnecting');
      expect(snapshot.hasTag('unhealthy')).toBe(false);
      previous = backoffDelay(reconnect, attempt, draw(), previous);
      await harness.advance(previous);
    }

    for (let retry = 0; retry < 3; retry += 1) {
      await harness.apply(errorEvent('connect', refused));
      const snapshot = harness.actor.getSnapshot();
      expect(snapshot.value).toBe('failed');
      expect(snapshot.hasTag('unhealthy')).toBe(true);
      expect(snapshot.context.attempts).toBe(maxReconnectAttempts + retry);
      previous = backoffDelay(reconnect, OVER_BUDGET, draw(), previous);
      expect(snapshot.context.nextDelayMs).toBe(previous);
      expect(previous).toBeGreaterThanOrEqual(reconnect.maxDelayMs);
      expect(previous).toBeLessThanOrEqual(maxBackoffDelay(reconnect));

      await harness.advance(previous - 1);
      expect(harness.actor.getSnapshot().value).toBe('failed');
      await harness.advance(1);
      expect(harness.actor.getSnapshot().value).toBe('connecting');
    }
    harness.stop();
  });

  it('recovers from failed when a retry connects', async () => {
    const harness = connectionHarness({ maxReconnectAttempts: 1 });
    await harness.apply(open);
    await harness.apply(errorEvent('connect', refused));
    expect(harness.actor.getSnapshot().value).toBe('failed');

    await harness.advance(harness.actor.getSnapshot().context.nextDelayMs);
    await harness.apply(connected);
    const snapshot = harness.actor.getSnapshot();
    expect(snapshot.value).toEqual({ connected: 'flowing' });
    expect(snapshot.hasTag('healthy')).toBe(true);
    expect(snapshot.hasTag('unhealthy')).toBe(false);
    expect(snapshot.context.attempts).toBe(0);
    harness.stop();
  });
});
