import { describe, expect, it } from 'vitest';
import { until } from '../support/settle.js';
import { createSupervisor, FAKE_ENDPOINT } from '../support/supervisor-harness.js';

describe('supervisor: start', () => {
  it('stays idle, unconnected and with the gate closed until started', () => {
    const harness = createSupervisor();
    const snapshot = harness.actor.getSnapshot();
    expect(snapshot.value).toBe('idle');
    expect(snapshot.context.connectionPhase).toBe('idle');
    expect(snapshot.context.gateOpen).toBe(false);
    expect(harness.connects).toHaveLength(0);
  });

  it('opens the connection on supervisor.start and opens the gate once connected', async () => {
    const harness = createSupervisor();
    harness.actor.send({ type: 'supervisor.start' });
    expect(harness.actor.getSnapshot().value).toEqual({ running: 'active' });
    expect(harness.actor.getSnapshot().context.connectionPhase).toBe('connecting');

    const connected = await until(harness.actor, (s) => s.context.connectionPhase === 'connected');
    expect(harness.connects).toEqual([{ attempt: 1 }]);
    expect(connected.context.gateOpen).toBe(true);
    expect(connected.children.connection?.getSnapshot().context).toMatchObject({ endpoint: FAKE_ENDPOINT });
    expect(connected.children.breaker?.getSnapshot().value).toBe('closed');
    expect(harness.errors).toEqual([]);
  });
});
