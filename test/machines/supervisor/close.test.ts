import { describe, expect, it } from 'vitest';
import { connectionLost, nacked } from '../support/message-harness.js';
import { until } from '../support/settle.js';
import {
  connectedSupervisor,
  createSupervisor,
  messageChildren,
  ticket,
} from '../support/supervisor-harness.js';

describe('supervisor: close', () => {
  it('closes the connection and ends in the final closed state with no children left', async () => {
    const harness = await connectedSupervisor();
    harness.actor.send({ type: 'message.retry', ticket: ticket('a', connectionLost) });
    harness.actor.send({ type: 'message.retry', ticket: ticket('b', nacked) });
    expect(Object.keys(messageChildren(harness))).toHaveLength(2);

    harness.actor.send({ type: 'supervisor.close' });
    expect(harness.actor.getSnapshot().value).toEqual({ running: 'closing' });
    const closed = await until(harness.actor, (snapshot) => snapshot.status === 'done');

    expect(closed.value).toBe('closed');
    expect(closed.children).toEqual({});
    expect(harness.errors).toEqual([]);
  });

  it('closes at once when it was never started', () => {
    const harness = createSupervisor();
    harness.actor.send({ type: 'supervisor.close' });
    const snapshot = harness.actor.getSnapshot();
    expect(snapshot.status).toBe('done');
    expect(snapshot.value).toBe('closed');
    expect(harness.connects).toHaveLength(0);
  });

  it('stops the message actors it still had', async () => {
    const harness = await connectedSupervisor();
    harness.actor.send({ type: 'message.retry', ticket: ticket('a', connectionLost) });
    const publishing = harness.publish.latest();
    harness.actor.send({ type: 'supervisor.close' });
    await until(harness.actor, (snapshot) => snapshot.status === 'done');
    expect(publishing.signal.aborted).toBe(true);
  });
});
