import { describe, expect, it } from 'vitest';
import { messageActorId } from '../../../machines/supervisor.machine.js';
import { connectionLost, nacked } from '../support/message-harness.js';
import { connectedSupervisor, messageChild, messageChildren, ticket } from '../support/supervisor-harness.js';

describe('supervisor: message.retry', () => {
  it('spawns msg:<id> with the ticket and the current gate', async () => {
    const harness = await connectedSupervisor();
    harness.actor.send({ type: 'message.retry', ticket: ticket('order-7', nacked, 2) });

    expect(messageActorId('order-7')).toBe('msg:order-7');
    expect(Object.keys(messageChildren(harness))).toEqual(['msg:order-7']);
    const { context } = messageChild(harness, 'order-7').getSnapshot();
    expect(context.messageId).toBe('order-7');
    expect(context.attempts).toBe(2);
    expect(context.lastFailure).toEqual(nacked);
    expect(context.gateOpen).toBe(true);
    expect(harness.actor.getSnapshot().context.liveMessages).toBe(1);
  });

  it('passes on the message settings it was given', async () => {
    const harness = await connectedSupervisor({ message: { maxAttempts: 9, confirmTimeoutMs: 1_234 } });
    harness.actor.send({ type: 'message.retry', ticket: ticket('a') });
    const { settings } = messageChild(harness, 'a').getSnapshot().context;
    expect(settings.maxAttempts).toBe(9);
    expect(settings.confirmTimeoutMs).toBe(1_234);
  });

  it('gives each message actor its own jitter seed', async () => {
    const harness = await connectedSupervisor();
    const ids = ['a', 'b', 'c', 'd'];
    for (const id of ids) harness.actor.send({ type: 'message.retry', ticket: ticket(id) });
    const seeds = new Set(ids.map((id) => messageChild(harness, id).getSnapshot().context.random));
    expect(seeds.size).toBe(ids.length);
  });

  it('does not spawn twice for a duplicate ticket of a live message', async () => {
    const harness = await connectedSupervisor();
    harness.actor.send({ type: 'message.retry', ticket: ticket('a', connectionLost) });
    const first = messageChild(harness, 'a');
    harness.actor.send({ type: 'message.retry', ticket: ticket('a', connectionLost) });
    harness.actor.send({ type: 'message.retry', ticket: ticket('a', nacked, 3), fromBacklog: true });

    expect(messageChild(harness, 'a')).toBe(first);
    expect(Object.keys(messageChildren(harness))).toEqual(['msg:a']);
    expect(harness.actor.getSnapshot().context.liveMessages).toBe(1);
    expect(harness.publish.calls).toHaveLength(1);
    expect(harness.held.count).toBe(0);
  });
});
