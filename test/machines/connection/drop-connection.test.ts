/**
 * `dropConnection` destroys what is left of a connection being given up on: on entering `reconnecting`
 * or `failed`, and on leaving `closing` however the close ends.
 */
import { describe, expect, it } from 'vitest';
import type { connectionMachine } from '../../../machines/index.js';
import { afterEvent, doneEvent, errorEvent, type ModelEvent } from '../../../src/testing/index.js';
import {
  accessRefused,
  close,
  connectionHarness,
  drive,
  healthCheckDue,
  open,
  refused,
  reset,
  routes,
} from './fixtures.js';

type Event = ModelEvent<typeof connectionMachine>;

/** The steps (1-based, as the harness counts applied events) at which `dropConnection` ran. */
async function dropsWhile(events: readonly Event[], settings = {}): Promise<number[]> {
  const harness = connectionHarness(settings);
  await drive(harness, events);
  harness.stop();
  return harness.actions.filter((action) => action.type === 'dropConnection').map((action) => action.step);
}

describe('dropConnection', () => {
  it.each([
    ['a connect error', [open, errorEvent('connect', refused)]],
    ['a connect timeout', [open, afterEvent('connectTimeout', 'connection.connecting')]],
    ['a lost connection', [...routes['connected.flowing'], { type: 'connection.lost', failure: reset }]],
    ['a failed health check', [...routes['connected.checking'], errorEvent('healthCheck', refused)]],
  ] satisfies [string, Event[]][])('runs on entering reconnecting after %s', async (_, events) => {
    expect(await dropsWhile(events)).toEqual([events.length]);
  });

  it('runs on entering failed, every time', async () => {
    const events: Event[] = [
      ...routes.failed,
      afterEvent('reconnectDelay', 'connection.failed'),
      errorEvent('connect', accessRefused),
    ];
    expect(await dropsWhile(events)).toEqual([2, 4]);
  });

  it.each([
    ['the disconnect finishes', doneEvent('disconnect')],
    ['the disconnect fails', errorEvent('disconnect', reset)],
    ['the close times out', afterEvent('disconnectTimeout', 'connection.closing')],
  ] satisfies [string, Event][])('runs on leaving closing when %s', async (_, ending) => {
    expect(await dropsWhile([...routes['connected.flowing'], close, ending])).toEqual([4]);
  });

  it('does not run while connecting, connected or on entering closing', async () => {
    expect(
      await dropsWhile([...routes['connected.flowing'], { type: 'connection.blocked', reason: 'x' }]),
    ).toEqual([]);
    expect(
      await dropsWhile([...routes['connected.flowing'], healthCheckDue, doneEvent('healthCheck'), close]),
    ).toEqual([]);
  });
});
