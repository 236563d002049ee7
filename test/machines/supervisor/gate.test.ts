import { describe, expect, it } from 'vitest';
import { DEFAULT_RECONNECT_BACKOFF, maxBackoffDelay } from '../../../machines/backoff.js';
import { connectionLost, nacked } from '../support/message-harness.js';
import { until } from '../support/settle.js';
import {
  connectedSupervisor,
  messageChild,
  type SupervisorHarness,
  ticket,
} from '../support/supervisor-harness.js';

const breaker = { failureThreshold: 3, cooldownMs: 10_000 };

/** Every live message actor has heard the supervisor's current gate. */
function expectGateEverywhere(
  harness: SupervisorHarness,
  open: boolean,
  messageIds: readonly string[],
): void {
  expect(harness.actor.getSnapshot().context.gateOpen).toBe(open);
  for (const id of messageIds) expect(messageChild(harness, id).getSnapshot().context.gateOpen).toBe(open);
}

function loseConnection(harness: SupervisorHarness): void {
  const watcher = harness.watchers.at(-1);
  if (watcher === undefined) throw new Error('the connection never watched');
  watcher({ type: 'connection.lost', failure: connectionLost });
}

describe('supervisor: the gate', () => {
  it('closes while the connection is down and opens again once it is back, telling live messages', async () => {
    const harness = await connectedSupervisor({ breaker });
    harness.actor.send({ type: 'message.retry', ticket: ticket('a', connectionLost) });
    expectGateEverywhere(harness, true, ['a']);

    loseConnection(harness);
    expect(harness.actor.getSnapshot().context.connectionPhase).toBe('reconnecting');
    expectGateEverywhere(harness, false, ['a']);

    harness.clock.increment(maxBackoffDelay(DEFAULT_RECONNECT_BACKOFF));
    await until(harness.actor, (s) => s.context.connectionPhase === 'connected');
    expect(harness.connects).toHaveLength(2);
    expectGateEverywhere(harness, true, ['a']);
  });

  it('closes while the connection is blocked', async () => {
    const harness = await connectedSupervisor({ breaker });
    harness.actor.send({ type: 'message.retry', ticket: ticket('a', connectionLost) });
    harness.watchers.at(-1)?.({ type: 'connection.blocked', reason: 'low on memory' });
    expect(harness.actor.getSnapshot().context.connectionPhase).toBe('blocked');
    expectGateEverywhere(harness, false, ['a']);
    harness.watchers.at(-1)?.({ type: 'connection.unblocked' });
    expectGateEverywhere(harness, true, ['a']);
  });

  it('closes while the breaker is open or half-open and opens when it closes', async () => {
    const harness = await connectedSupervisor({ breaker });
    harness.actor.send({ type: 'message.retry', ticket: ticket('a', connectionLost) });

    harness.actor.send({ type: 'breaker.failure', at: 0, failure: nacked, count: breaker.failureThreshold });
    expect(harness.actor.getSnapshot().context.breakerPhase).toBe('open');
    expectGateEverywhere(harness, false, ['a']);

    harness.clock.increment(breaker.cooldownMs);
    expect(harness.actor.getSnapshot().context.breakerPhase).toBe('halfOpen');
    // The one live actor is offered the probe: its gate opens while the supervisor's stays closed.
    expect(harness.actor.getSnapshot().context.gateOpen).toBe(false);
    expect(messageChild(harness, 'a').getSnapshot().context.gateOpen).toBe(true);

    harness.actor.send({ type: 'breaker.probe' });
    harness.actor.send({ type: 'breaker.success', at: breaker.cooldownMs });
    expect(harness.actor.getSnapshot().context.breakerPhase).toBe('closed');
    expectGateEverywhere(harness, true, ['a']);
  });

  it('stays closed while either side is down: the breaker closing during an outage does not open it', async () => {
    const harness = await connectedSupervisor({ breaker });
    harness.actor.send({ type: 'breaker.failure', at: 0, failure: nacked, count: breaker.failureThreshold });
    loseConnection(harness);
    harness.actor.send({ type: 'breaker.reset' });
    expect(harness.actor.getSnapshot().context.breakerPhase).toBe('closed');
    expect(harness.actor.getSnapshot().context.gateOpen).toBe(false);
  });

  it('a message waiting for the gate publishes as soon as it opens', async () => {
    const harness = await connectedSupervisor({ breaker });
    loseConnection(harness);
    harness.actor.send({ type: 'message.retry', ticket: ticket('a', connectionLost) });
    expect(messageChild(harness, 'a').getSnapshot().value).toBe('waiting');
    expect(harness.publish.calls).toHaveLength(0);

    harness.clock.increment(maxBackoffDelay(DEFAULT_RECONNECT_BACKOFF));
    await until(harness.actor, (s) => s.context.gateOpen);
    expect(messageChild(harness, 'a').getSnapshot().value).toBe('publishing');
    expect(harness.publish.calls.map((call) => call.input.messageId)).toEqual(['a']);
  });
});
