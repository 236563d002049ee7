import { describe, expect, it } from 'vitest';
import { connectionLost } from '../support/message-harness.js';
import { until } from '../support/settle.js';
import {
  connectedSupervisor,
  messageChild,
  messageChildren,
  type SupervisorHarness,
  ticket,
} from '../support/supervisor-harness.js';

/** Lets the live actor of `messageId` publish, then acks it through the supervisor. */
async function confirm(harness: SupervisorHarness, messageId: string): Promise<void> {
  const child = messageChild(harness, messageId);
  const call = harness.publish.pending().find((pending) => pending.input.messageId === messageId);
  call?.resolve();
  await until(child, (snapshot) => snapshot.matches('awaitingConfirm'));
  harness.actor.send({ type: 'message.ack', messageId });
}

describe('supervisor: backlog over maxLiveMessages', () => {
  it('holds tickets over the cap and spawns them, oldest first, as live actors finish', async () => {
    const maxLiveMessages = 2;
    const harness = await connectedSupervisor({ maxLiveMessages });
    let mostChildren = 0;
    harness.actor.subscribe(() => {
      mostChildren = Math.max(mostChildren, Object.keys(messageChildren(harness)).length);
    });
    const ids = ['a', 'b', 'c', 'd', 'e'];
    for (const id of ids) harness.actor.send({ type: 'message.retry', ticket: ticket(id, connectionLost) });

    expect(Object.keys(messageChildren(harness))).toEqual(['msg:a', 'msg:b']);
    expect(harness.held.count).toBe(ids.length - maxLiveMessages);
    expect(harness.backlog.map((held) => held.messageId)).toEqual(['c', 'd', 'e']);
    expect(harness.actor.getSnapshot().context).toMatchObject({ liveMessages: 2, backlog: 3 });

    await confirm(harness, 'a');
    expect(Object.keys(messageChildren(harness)).sort()).toEqual(['msg:b', 'msg:c']);
    expect(harness.backlog.map((held) => held.messageId)).toEqual(['d', 'e']);
    expect(harness.actor.getSnapshot().context).toMatchObject({ liveMessages: 2, backlog: 2 });

    for (const id of ['b', 'c', 'd', 'e']) await confirm(harness, id);

    expect(harness.outcomes.map((outcome) => outcome.messageId)).toEqual(ids);
    expect(harness.outcomes.every((outcome) => outcome.outcome === 'confirmed')).toBe(true);
    expect(messageChildren(harness)).toEqual({});
    expect(harness.backlog).toEqual([]);
    expect(harness.actor.getSnapshot().context).toMatchObject({ liveMessages: 0, backlog: 0 });
    expect(mostChildren).toBe(maxLiveMessages);
    expect(harness.errors).toEqual([]);
  });

  it('a released ticket keeps the attempts and failure it was held with', async () => {
    const harness = await connectedSupervisor({ maxLiveMessages: 1 });
    harness.actor.send({ type: 'message.retry', ticket: ticket('a', connectionLost) });
    harness.actor.send({ type: 'message.retry', ticket: ticket('b', connectionLost, 2) });
    await confirm(harness, 'a');
    const { context } = messageChild(harness, 'b').getSnapshot();
    expect(context.attempts).toBe(2);
    expect(context.lastFailure).toEqual(connectionLost);
  });
});
