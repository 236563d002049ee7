/**
 * The supervisor tells live message actors when the broker blocks and unblocks the connection, so that
 * an actor awaiting its confirm holds its confirm timeout through a resource alarm.
 */
import { describe, expect, it } from 'vitest';
import { FAILURE_CODES } from '../../../machines/failure.js';
import { connectionLost, nacked } from '../support/message-harness.js';
import { until } from '../support/settle.js';
import {
  connectedSupervisor,
  messageChild,
  type SupervisorHarness,
  ticket,
} from '../support/supervisor-harness.js';

const confirmTimeoutMs = 3_000;
const breaker = { failureThreshold: 3, cooldownMs: 10_000 };

function signal(harness: SupervisorHarness, type: 'connection.blocked' | 'connection.unblocked'): void {
  const watcher = harness.watchers.at(-1);
  if (watcher === undefined) throw new Error('the connection never watched');
  watcher(type === 'connection.blocked' ? { type, reason: 'low on memory' } : { type });
}

/** A connected supervisor with message `a` republished and awaiting its confirm. */
async function awaitingConfirm(): Promise<SupervisorHarness> {
  const harness = await connectedSupervisor({ breaker, message: { confirmTimeoutMs } });
  harness.actor.send({ type: 'message.retry', ticket: ticket('a', connectionLost) });
  harness.publish.latest().resolve();
  await until(messageChild(harness, 'a'), (snapshot) => snapshot.matches('awaitingConfirm'));
  return harness;
}

describe('supervisor: a blocked connection', () => {
  it('holds the confirm timeout of a message awaiting its confirm until the block ends', async () => {
    const harness = await awaitingConfirm();
    const child = messageChild(harness, 'a');

    signal(harness, 'connection.blocked');
    expect(child.getSnapshot().value).toEqual({ awaitingConfirm: 'blocked' });
    harness.clock.increment(10 * confirmTimeoutMs);
    expect(child.getSnapshot().value).toEqual({ awaitingConfirm: 'blocked' });
    expect(child.getSnapshot().context.attempts).toBe(1);
    expect(harness.publish.calls).toHaveLength(1);

    signal(harness, 'connection.unblocked');
    expect(child.getSnapshot().value).toEqual({ awaitingConfirm: 'timing' });
    harness.clock.increment(confirmTimeoutMs);
    expect(child.getSnapshot().context.lastFailure.code).toBe(FAILURE_CODES.confirmTimeout);
    expect(child.getSnapshot().context.attempts).toBe(2);
  });

  it('says so even while an open breaker already keeps the gate closed', async () => {
    const harness = await awaitingConfirm();
    const child = messageChild(harness, 'a');
    harness.actor.send({ type: 'breaker.failure', at: 0, failure: nacked, count: breaker.failureThreshold });
    expect(harness.actor.getSnapshot().context.gateOpen).toBe(false);

    signal(harness, 'connection.blocked');
    expect(harness.actor.getSnapshot().context.gateOpen).toBe(false);
    expect(child.getSnapshot().value).toEqual({ awaitingConfirm: 'blocked' });

    signal(harness, 'connection.unblocked');
    expect(harness.actor.getSnapshot().context.gateOpen).toBe(false);
    expect(child.getSnapshot().value).toEqual({ awaitingConfirm: 'timing' });
  });

  it('a message actor spawned during a block starts out knowing it', async () => {
    const harness = await connectedSupervisor({ breaker });
    signal(harness, 'connection.blocked');
    harness.actor.send({ type: 'message.retry', ticket: ticket('b', nacked) });
    expect(messageChild(harness, 'b').getSnapshot().context.blocked).toBe(true);

    signal(harness, 'connection.unblocked');
    expect(messageChild(harness, 'b').getSnapshot().context.blocked).toBe(false);
  });

  it('ends the block for its actors when the blocked connection is lost', async () => {
    const harness = await awaitingConfirm();
    signal(harness, 'connection.blocked');
    harness.watchers.at(-1)?.({ type: 'connection.lost', failure: connectionLost });
    expect(harness.actor.getSnapshot().context.connectionPhase).toBe('reconnecting');
    expect(messageChild(harness, 'a').getSnapshot().context.blocked).toBe(false);
  });
});
