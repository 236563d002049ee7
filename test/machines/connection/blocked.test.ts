/** The broker's `connection.blocked` stops publishing until `connection.unblocked`; the connection stays. */
import { describe, expect, it } from 'vitest';
import { blocked, connectionHarness, drive, healthCheckDue, reset, routes, startsOf } from './fixtures.js';

describe('blocked / unblocked', () => {
  it('blocks publishing with the reason and resumes flowing when unblocked', async () => {
    const harness = connectionHarness();
    await drive(harness, routes['connected.blocked']);
    let snapshot = harness.actor.getSnapshot();
    expect(snapshot.value).toEqual({ connected: 'blocked' });
    expect(snapshot.context.blockedReason).toBe(blocked.reason);
    expect(snapshot.hasTag('blocked')).toBe(true);
    expect(snapshot.hasTag('canPublish')).toBe(false);
    expect(snapshot.hasTag('healthy')).toBe(true);

    await harness.apply({ type: 'connection.unblocked' });
    snapshot = harness.actor.getSnapshot();
    expect(snapshot.value).toEqual({ connected: 'flowing' });
    expect(snapshot.context.blockedReason).toBeNull();
    expect(snapshot.hasTag('canPublish')).toBe(true);
    harness.stop();
  });

  it('interrupts a running health check, and checks nothing while blocked', async () => {
    const harness = connectionHarness();
    const { healthCheckIntervalMs } = harness.actor.getSnapshot().context.settings;
    await drive(harness, [...routes['connected.flowing'], healthCheckDue]);
    expect(harness.isPending('healthCheck')).toBe(true);

    await harness.apply(blocked);
    expect(harness.actor.getSnapshot().value).toEqual({ connected: 'blocked' });
    expect(harness.isPending('healthCheck')).toBe(false);

    await harness.advance(3 * healthCheckIntervalMs);
    expect(harness.actor.getSnapshot().value).toEqual({ connected: 'blocked' });
    expect(startsOf(harness, 'healthCheck')).toHaveLength(1);
    harness.stop();
  });

  it('forgets the block when the connection is lost', async () => {
    const harness = connectionHarness();
    await drive(harness, routes['connected.blocked']);
    await harness.apply({ type: 'connection.lost', failure: reset });
    const snapshot = harness.actor.getSnapshot();
    expect(snapshot.value).toBe('reconnecting');
    expect(snapshot.context.blockedReason).toBeNull();
    harness.stop();
  });
});
