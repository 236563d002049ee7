import { describe, expect, it } from 'vitest';
import { connectionLost, publishSucceeds, startMessage } from '../support/message-harness.js';
import { until } from '../support/settle.js';

const longerThanAnyTimer = 24 * 60 * 60 * 1_000;

describe('message: CONNECTION_LOST', () => {
  it('arriving with a lost connection and a closed gate, it waits for the gate without spending an attempt', () => {
    const { actor, clock, publish } = startMessage({ failure: connectionLost, gateOpen: false });
    expect(actor.getSnapshot().value).toBe('waiting');
    expect(actor.getSnapshot().hasTag('retrying')).toBe(true);

    clock.increment(longerThanAnyTimer);
    expect(actor.getSnapshot().value).toBe('waiting');
    expect(publish.calls).toHaveLength(0);

    actor.send({ type: 'gate.changed', open: true });
    expect(actor.getSnapshot().value).toBe('publishing');
    expect(actor.getSnapshot().context.attempts).toBe(1);
    expect(publish.latest().input.attempts).toBe(1);
  });

  it('a gate.changed that stays closed does not release a waiting message', () => {
    const { actor, publish } = startMessage({ failure: connectionLost, gateOpen: false });
    actor.send({ type: 'gate.changed', open: false });
    expect(actor.getSnapshot().value).toBe('waiting');
    expect(publish.calls).toHaveLength(0);
  });

  it('losing the connection while awaiting the confirm does not use up an attempt', async () => {
    const harness = startMessage({ settings: { maxAttempts: 2 } });
    harness.clock.increment(harness.actor.getSnapshot().context.nextDelayMs);
    await publishSucceeds(harness);
    expect(harness.actor.getSnapshot().context.attempts).toBe(1);

    // The supervisor closes the gate before the runtime fails the in-flight confirm.
    harness.actor.send({ type: 'gate.changed', open: false });
    for (let outage = 0; outage < 5; outage++) {
      harness.actor.send({ type: 'confirm.failed', failure: connectionLost });
      expect(harness.actor.getSnapshot().value).toBe('waiting');
      expect(harness.actor.getSnapshot().context.attempts).toBe(1);
      harness.actor.send({ type: 'gate.changed', open: true });
      await publishSucceeds(harness);
      harness.actor.send({ type: 'gate.changed', open: false });
    }
    harness.actor.send({ type: 'confirm.ack' });
    const done = await until(harness.actor, (snapshot) => snapshot.status === 'done');
    expect(done.output?.outcome).toBe('confirmed');
    expect(done.output?.attempts).toBe(1);
    expect(harness.deadLetter.calls).toHaveLength(0);
  });

  it('waits for gate.changed { open: true } even when the gate it last heard of was open', async () => {
    // The runtime may fail an in-flight confirm with CONNECTION_LOST before the supervisor has seen the
    // connection drop and closed the gate. The failure itself says the gate is closed: republishing at
    // once would write to a dead channel in a loop until the broadcast arrives.
    const harness = startMessage();
    harness.clock.increment(harness.actor.getSnapshot().context.nextDelayMs);
    await publishSucceeds(harness);
    harness.actor.send({ type: 'confirm.failed', failure: connectionLost });

    expect(harness.actor.getSnapshot().value).toBe('waiting');
    expect(harness.publish.calls).toHaveLength(1);
    harness.actor.send({ type: 'gate.changed', open: true });
    expect(harness.actor.getSnapshot().value).toBe('publishing');
    expect(harness.actor.getSnapshot().context.attempts).toBe(1);
  });

  it('a publish rejected with CONNECTION_LOST waits for the gate too', async () => {
    const harness = startMessage();
    harness.clock.increment(harness.actor.getSnapshot().context.nextDelayMs);
    harness.actor.send({ type: 'gate.changed', open: false });
    harness.publish.latest().reject(connectionLost);
    const waiting = await until(harness.actor, (snapshot) => snapshot.matches('waiting'));
    expect(waiting.context.attempts).toBe(1);
    expect(harness.publish.calls).toHaveLength(1);
  });
});
