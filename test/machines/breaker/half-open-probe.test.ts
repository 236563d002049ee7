import { describe, expect, it } from 'vitest';
import type { Failure } from '../../../machines/failure.js';
import {
  type BreakerHarness,
  brokerFailure,
  inPhase,
  phaseOf,
  startBreaker,
  tripBreaker,
} from '../support/breaker-harness.js';

const cooldownMs = 5_000;

function halfOpenBreaker(): BreakerHarness {
  const harness = startBreaker({ failureThreshold: 3, cooldownMs });
  tripBreaker(harness);
  harness.clock.increment(cooldownMs);
  expect(phaseOf(harness.actor)).toEqual(inPhase('halfOpen'));
  return harness;
}

describe('breaker: half-open', () => {
  it('lets exactly one probe through; a second probe is a no-op', () => {
    const { actor } = halfOpenBreaker();
    actor.send({ type: 'breaker.probe' });
    const afterFirst = actor.getSnapshot();
    expect(afterFirst.context.probeTaken).toBe(true);

    actor.send({ type: 'breaker.probe' });
    expect(actor.getSnapshot().context).toEqual(afterFirst.context);
    expect(phaseOf(actor)).toEqual(inPhase('halfOpen'));
  });

  it('closes on the probe succeeding and resets its counts', () => {
    const { actor } = halfOpenBreaker();
    actor.send({ type: 'breaker.probe' });
    actor.send({ type: 'breaker.success', at: cooldownMs });

    expect(phaseOf(actor)).toEqual(inPhase('closed'));
    const { context } = actor.getSnapshot();
    expect(context.consecutiveFailures).toBe(0);
    expect(context.probeTaken).toBe(false);
    expect(context.window).toEqual([]);
    expect(context.trips).toBe(1);

    // The count really restarted: one failure short of the threshold keeps it closed.
    const { failureThreshold } = context.settings;
    for (let i = 0; i < failureThreshold - 1; i++) {
      actor.send({ type: 'breaker.failure', at: cooldownMs, failure: brokerFailure });
    }
    expect(phaseOf(actor)).toEqual(inPhase('closed'));
  });

  it('re-opens on the probe failing, counts a trip, and probes again after another cooldown', () => {
    const harness = halfOpenBreaker();
    const { actor, clock } = harness;
    const probeFailure: Failure = { code: 'RETURNED', message: 'the probe came back', permanent: false };
    actor.send({ type: 'breaker.probe' });
    actor.send({ type: 'breaker.failure', at: cooldownMs, failure: probeFailure });

    expect(phaseOf(actor)).toEqual(inPhase('open'));
    expect(actor.getSnapshot().context.trips).toBe(2);
    expect(actor.getSnapshot().context.lastFailure).toEqual(probeFailure);

    clock.increment(cooldownMs - 1);
    expect(phaseOf(actor)).toEqual(inPhase('open'));
    clock.increment(1);
    expect(phaseOf(actor)).toEqual(inPhase('halfOpen'));
    expect(actor.getSnapshot().context.probeTaken).toBe(false);
    actor.send({ type: 'breaker.probe' });
    expect(actor.getSnapshot().context.probeTaken).toBe(true);
  });
});
