import { describe, expect, it } from 'vitest';
import { connectionLost, nacked, rejectedForever } from '../support/message-harness.js';
import { until } from '../support/settle.js';
import { connectedSupervisor, messageChild, messageChildren, ticket } from '../support/supervisor-harness.js';

describe('supervisor: finished message actors', () => {
  it('stops a confirmed actor and reports its output', async () => {
    const harness = await connectedSupervisor();
    harness.actor.send({ type: 'message.retry', ticket: ticket('a', connectionLost) });
    const child = messageChild(harness, 'a');
    harness.publish.latest().resolve();
    await until(child, (snapshot) => snapshot.matches('awaitingConfirm'));

    harness.actor.send({ type: 'message.ack', messageId: 'a' });

    expect(messageChildren(harness)).toEqual({});
    expect(harness.outcomes).toEqual([child.getSnapshot().output]);
    expect(harness.outcomes[0]).toMatchObject({ messageId: 'a', outcome: 'confirmed' });
    expect(harness.actor.getSnapshot().context).toMatchObject({
      liveMessages: 0,
      confirmedAfterRetry: 1,
      deadLettered: 0,
    });
  });

  it('stops a dead-lettered actor and reports its output', async () => {
    const harness = await connectedSupervisor();
    harness.actor.send({ type: 'message.retry', ticket: ticket('b', rejectedForever) });
    const child = messageChild(harness, 'b');
    harness.deadLetter.latest().resolve();
    await until(harness.actor, () => harness.outcomes.length === 1);

    expect(messageChildren(harness)).toEqual({});
    expect(harness.outcomes).toEqual([child.getSnapshot().output]);
    expect(harness.outcomes[0]).toMatchObject({
      messageId: 'b',
      outcome: 'dead-lettered',
      lastFailure: rejectedForever,
    });
    expect(harness.actor.getSnapshot().context).toMatchObject({
      liveMessages: 0,
      confirmedAfterRetry: 0,
      deadLettered: 1,
    });
  });

  it('routes message.failed to the live actor as a failed confirm', async () => {
    const harness = await connectedSupervisor();
    harness.actor.send({ type: 'message.retry', ticket: ticket('a', connectionLost) });
    harness.publish.latest().resolve();
    await until(messageChild(harness, 'a'), (snapshot) => snapshot.matches('awaitingConfirm'));

    harness.actor.send({ type: 'message.failed', messageId: 'a', failure: nacked });
    const { context, value } = messageChild(harness, 'a').getSnapshot();
    expect(value).toBe('retryWait');
    expect(context.lastFailure).toEqual(nacked);
    expect(context.attempts).toBe(2);
  });

  it('spawns a fresh actor for a message that failed again after it was released', async () => {
    const harness = await connectedSupervisor();
    harness.actor.send({ type: 'message.retry', ticket: ticket('a', connectionLost) });
    const first = messageChild(harness, 'a');
    harness.publish.latest().resolve();
    await until(first, (snapshot) => snapshot.matches('awaitingConfirm'));
    harness.actor.send({ type: 'message.ack', messageId: 'a' });

    harness.actor.send({ type: 'message.retry', ticket: ticket('a', connectionLost) });
    expect(messageChild(harness, 'a')).not.toBe(first);
    expect(harness.actor.getSnapshot().context.liveMessages).toBe(1);
  });
});
