/**
 * A blocked broker (a resource alarm) reads nothing, so no confirm can arrive and none is late: a
 * message awaiting its confirm holds its confirm timeout while the connection is blocked, and the full
 * timeout runs again once it is unblocked.
 */
import { describe, expect, it } from 'vitest';
import { FAILURE_CODES } from '../../../machines/failure.js';
import {
  connectionLost,
  type MessageHarness,
  publishSucceeds,
  startMessage,
} from '../support/message-harness.js';
import { until } from '../support/settle.js';

const confirmTimeoutMs = 3_000;

/** A message whose republish went out and now awaits its confirm. */
async function awaitingConfirm(): Promise<MessageHarness> {
  const harness = startMessage({ settings: { maxAttempts: 5, confirmTimeoutMs } });
  harness.clock.increment(harness.actor.getSnapshot().context.nextDelayMs);
  await publishSucceeds(harness);
  return harness;
}

describe('message: confirm timeout while the connection is blocked', () => {
  it('does not time out while blocked, and runs the full timeout again once unblocked', async () => {
    const harness = await awaitingConfirm();
    const { actor, clock } = harness;
    clock.increment(confirmTimeoutMs - 1);

    actor.send({ type: 'connection.blocked' });
    expect(actor.getSnapshot().value).toEqual({ awaitingConfirm: 'blocked' });
    clock.increment(10 * confirmTimeoutMs);
    expect(actor.getSnapshot().value).toEqual({ awaitingConfirm: 'blocked' });
    expect(actor.getSnapshot().context.attempts).toBe(1);
    expect(harness.publish.calls).toHaveLength(1);
    expect(harness.journalFailure).toHaveBeenCalledTimes(1);

    actor.send({ type: 'connection.unblocked' });
    expect(actor.getSnapshot().value).toEqual({ awaitingConfirm: 'timing' });
    clock.increment(confirmTimeoutMs - 1);
    expect(actor.getSnapshot().value).toEqual({ awaitingConfirm: 'timing' });
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('retryWait');
    expect(actor.getSnapshot().context).toMatchObject({
      attempts: 2,
      lastFailure: { code: FAILURE_CODES.confirmTimeout },
    });
  });

  it('is confirmed by an ack that arrives while blocked', async () => {
    const { actor, clock } = await awaitingConfirm();
    actor.send({ type: 'connection.blocked' });
    clock.increment(2 * confirmTimeoutMs);
    actor.send({ type: 'confirm.ack' });
    expect(actor.getSnapshot().output).toMatchObject({ outcome: 'confirmed', attempts: 1 });
  });

  it('still fails at once when the connection is lost during the block', async () => {
    const { actor, clock } = await awaitingConfirm();
    actor.send({ type: 'connection.blocked' });
    clock.increment(2 * confirmTimeoutMs);
    actor.send({ type: 'confirm.failed', failure: connectionLost });
    expect(actor.getSnapshot().value).toBe('waiting');
    // A lost connection uses up no attempt.
    expect(actor.getSnapshot().context.attempts).toBe(1);
  });

  it('holds the timeout from the start when the block began while the publish was in flight', async () => {
    const { actor, clock, publish } = startMessage({ settings: { confirmTimeoutMs } });
    clock.increment(actor.getSnapshot().context.nextDelayMs);
    expect(actor.getSnapshot().value).toBe('publishing');
    actor.send({ type: 'connection.blocked' });
    publish.latest().resolve();
    await until(actor, (snapshot) => snapshot.matches('awaitingConfirm'));
    expect(actor.getSnapshot().value).toEqual({ awaitingConfirm: 'blocked' });
    clock.increment(2 * confirmTimeoutMs);
    expect(actor.getSnapshot().value).toEqual({ awaitingConfirm: 'blocked' });
  });

  it('neither restarts nor extends the timeout on an unblock it was not blocked for', async () => {
    const { actor, clock } = await awaitingConfirm();
    clock.increment(confirmTimeoutMs - 1);
    actor.send({ type: 'connection.unblocked' });
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('retryWait');
    expect(actor.getSnapshot().context.lastFailure.code).toBe(FAILURE_CODES.confirmTimeout);
  });
});
