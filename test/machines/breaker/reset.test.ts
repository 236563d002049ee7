import { describe, expect, it } from 'vitest';
import {
  type BreakerHarness,
  inPhase,
  phaseOf,
  startBreaker,
  tripBreaker,
} from '../support/breaker-harness.js';

const cooldownMs = 5_000;

function openBreaker(): BreakerHarness {
  const harness = startBreaker({
    failureThreshold: 3,
    cooldownMs,
    failureRate: { windowMs: 10_000, buckets: 10, minimumVolume: 100, threshold: 0.5 },
  });
  tripBreaker(harness);
  expect(phaseOf(harness.actor)).toEqual(inPhase('open'));
  return harness;
}

function expectFreshlyClosed({ actor, clock }: BreakerHarness): void {
  expect(phaseOf(actor)).toEqual(inPhase('closed'));
  const { context } = actor.getSnapshot();
  expect(context.consecutiveFailures).toBe(0);
  expect(context.window).toEqual([]);
  expect(context.probeTaken).toBe(false);
  // No cooldown left behind: time passing keeps it closed.
  clock.increment(cooldownMs * 2);
  expect(phaseOf(actor)).toEqual(inPhase('closed'));
}

describe('breaker: reset', () => {
  it('closes an open breaker at once and cancels its cooldown', () => {
    const harness = openBreaker();
    harness.actor.send({ type: 'breaker.reset' });
    expectFreshlyClosed(harness);
  });

  it('closes a half-open breaker whose probe is out', () => {
    const harness = openBreaker();
    harness.clock.increment(cooldownMs);
    harness.actor.send({ type: 'breaker.probe' });
    expect(phaseOf(harness.actor)).toEqual(inPhase('halfOpen'));
    harness.actor.send({ type: 'breaker.reset' });
    expectFreshlyClosed(harness);
  });

  it('keeps the trip count: resetting is not forgetting that it tripped', () => {
    const harness = openBreaker();
    harness.actor.send({ type: 'breaker.reset' });
    expect(harness.actor.getSnapshot().context.trips).toBe(1);
  });
});
