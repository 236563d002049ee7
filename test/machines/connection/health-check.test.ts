/**
 * A flowing connection checks the broker every `healthCheckIntervalMs`; a check that fails or outlasts
 * `healthCheckTimeoutMs` counts in `healthCheckFailures` and makes the machine reconnect.
 */
import { describe, expect, it } from 'vitest';
import { doneEvent, errorEvent } from '../../../src/testing/index.js';
import {
  connected,
  connectionHarness,
  drive,
  gaps,
  healthCheckDue,
  refused,
  reset,
  routes,
  startsOf,
} from './fixtures.js';

const notFound = { code: 'NOT_FOUND', message: 'no exchange', permanent: false };

describe('health check', () => {
  it('runs every interval while flowing', async () => {
    const harness = connectionHarness();
    const { healthCheckIntervalMs } = harness.actor.getSnapshot().context.settings;
    await drive(harness, routes['connected.flowing']);
    const connectedAt = harness.clock.now();

    await harness.advance(healthCheckIntervalMs - 1);
    expect(startsOf(harness, 'healthCheck')).toEqual([]);
    await harness.advance(1);
    for (let round = 0; round < 3; round += 1) {
      expect(harness.actor.getSnapshot().value).toEqual({ connected: 'checking' });
      await harness.apply(doneEvent('healthCheck'));
      expect(harness.actor.getSnapshot().value).toEqual({ connected: 'flowing' });
      await harness.advance(healthCheckIntervalMs);
    }

    const starts = startsOf(harness, 'healthCheck');
    expect(starts[0]).toBe(connectedAt + healthCheckIntervalMs);
    expect(gaps(starts)).toEqual([healthCheckIntervalMs, healthCheckIntervalMs, healthCheckIntervalMs]);
    expect(harness.actor.getSnapshot().context.healthCheckFailures).toBe(0);
    harness.stop();
  });

  it('does not run while connecting or reconnecting', async () => {
    const harness = connectionHarness({ maxReconnectAttempts: 100 });
    const { healthCheckIntervalMs } = harness.actor.getSnapshot().context.settings;
    await drive(harness, [...routes['connected.flowing'], { type: 'connection.lost', failure: reset }]);
    // Every attempt from here on hangs until the connect timeout.
    await harness.advance(5 * healthCheckIntervalMs);
    expect(harness.actor.getSnapshot().hasTag('connected')).toBe(false);
    expect(startsOf(harness, 'connect').length).toBeGreaterThan(1);
    expect(startsOf(harness, 'healthCheck')).toEqual([]);
    harness.stop();
  });

  it('reconnects after a failed check and counts it', async () => {
    const harness = connectionHarness();
    await drive(harness, [...routes['connected.checking'], errorEvent('healthCheck', notFound)]);
    const snapshot = harness.actor.getSnapshot();
    expect(snapshot.value).toBe('reconnecting');
    expect(snapshot.context.healthCheckFailures).toBe(1);
    expect(snapshot.context.lastFailure).toEqual(notFound);
    harness.stop();
  });

  it('reconnects after a check that outlasts the timeout and counts it', async () => {
    const harness = connectionHarness();
    const { healthCheckTimeoutMs } = harness.actor.getSnapshot().context.settings;
    await drive(harness, routes['connected.checking']);

    await harness.advance(healthCheckTimeoutMs - 1);
    expect(harness.actor.getSnapshot().value).toEqual({ connected: 'checking' });
    await harness.advance(1);
    const snapshot = harness.actor.getSnapshot();
    expect(snapshot.value).toBe('reconnecting');
    expect(snapshot.context.healthCheckFailures).toBe(1);
    expect(snapshot.context.lastFailure).toMatchObject({ code: 'HEALTH_CHECK_TIMEOUT', permanent: false });
    expect(harness.isPending('healthCheck')).toBe(false);
    harness.stop();
  });

  it('keeps counting failures across reconnects', async () => {
    const harness = connectionHarness();
    await drive(harness, [...routes['connected.checking'], errorEvent('healthCheck', notFound)]);
    await harness.advance(harness.actor.getSnapshot().context.nextDelayMs);
    await drive(harness, [connected, healthCheckDue, errorEvent('healthCheck', refused)]);
    expect(harness.actor.getSnapshot().context).toMatchObject({ healthCheckFailures: 2, connects: 2 });
    harness.stop();
  });
});
