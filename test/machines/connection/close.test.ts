/** `connection.close` ends in the final `closed` state from every state the machine rests in. */
import { describe, expect, it } from 'vitest';
import { doneEvent, errorEvent } from '../../../src/testing/index.js';
import { close, connectionHarness, drive, reset, routes } from './fixtures.js';

const states = Object.keys(routes) as (keyof typeof routes)[];

describe('close', () => {
  it.each(states)('ends in closed from %s', async (state) => {
    const harness = connectionHarness();
    await drive(harness, routes[state]);
    await harness.apply(close);
    if (harness.actor.getSnapshot().value === 'closing') await harness.apply(doneEvent('disconnect'));

    const snapshot = harness.actor.getSnapshot();
    expect(snapshot.value).toBe('closed');
    expect(snapshot.status).toBe('done');
    expect(harness.isPending('connect')).toBe(false);
    expect(harness.isPending('healthCheck')).toBe(false);
    harness.stop();
  });

  it('disconnects gracefully only where a connection may be open', async () => {
    const disconnectsFrom = await Promise.all(
      states.map(async (state) => {
        const harness = connectionHarness();
        await drive(harness, routes[state]);
        await harness.apply(close);
        harness.stop();
        return harness.invocations.some((invocation) => invocation.src === 'disconnect') ? [state] : [];
      }),
    );
    expect(disconnectsFrom.flat()).toEqual([
      'connecting',
      'connected.flowing',
      'connected.checking',
      'connected.blocked',
      'closing',
    ]);
  });

  it('closes when the disconnect fails', async () => {
    const harness = connectionHarness();
    await drive(harness, [...routes.closing, errorEvent('disconnect', reset)]);
    expect(harness.actor.getSnapshot().status).toBe('done');
    harness.stop();
  });

  it('closes after disconnectTimeoutMs when the disconnect hangs', async () => {
    const harness = connectionHarness();
    const { disconnectTimeoutMs } = harness.actor.getSnapshot().context.settings;
    await drive(harness, routes.closing);
    await harness.advance(disconnectTimeoutMs - 1);
    expect(harness.actor.getSnapshot().value).toBe('closing');
    await harness.advance(1);
    expect(harness.actor.getSnapshot().status).toBe('done');
    expect(harness.isPending('disconnect')).toBe(false);
    harness.stop();
  });
});
