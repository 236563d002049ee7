import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FailureRateSettings } from '../../../machines/breaker.machine.js';
import { brokerFailure, inPhase, phaseOf, startBreaker } from '../support/breaker-harness.js';

const rate: FailureRateSettings = { windowMs: 10_000, buckets: 10, minimumVolume: 10, threshold: 0.5 };
const bucketMs = rate.windowMs / rate.buckets;

/** A breaker that only the rate rule can open. */
function startRateBreaker(failureRate: FailureRateSettings = rate) {
  return startBreaker({ failureThreshold: Number.MAX_SAFE_INTEGER, cooldownMs: 30_000, failureRate });
}

describe('breaker: failure-rate rule', () => {
  const failuresToTrip = Math.ceil(rate.threshold * rate.minimumVolume);
  const successes = rate.minimumVolume - failuresToTrip;

  it('trips on the failure that brings the windowed rate to the threshold at minimumVolume', () => {
    const { actor } = startRateBreaker();
    for (let i = 0; i < successes; i++) actor.send({ type: 'breaker.success', at: i });
    for (let i = 0; i < failuresToTrip - 1; i++) {
      actor.send({ type: 'breaker.failure', at: successes + i, failure: brokerFailure });
    }
    expect(phaseOf(actor)).toEqual(inPhase('closed'));
    actor.send({ type: 'breaker.failure', at: rate.minimumVolume, failure: brokerFailure });
    expect(phaseOf(actor)).toEqual(inPhase('open'));
    expect(actor.getSnapshot().context.trips).toBe(1);
  });

  it('does not trip below minimumVolume, even when every outcome failed', () => {
    const { actor } = startRateBreaker();
    for (let i = 0; i < rate.minimumVolume - 1; i++) {
      actor.send({ type: 'breaker.failure', at: i, failure: brokerFailure });
    }
    expect(phaseOf(actor)).toEqual(inPhase('closed'));
  });

  it('does not trip while the rate stays below the threshold', () => {
    const { actor } = startRateBreaker();
    // One more success than the trip point needs: the rate can never reach the threshold.
    actor.send({ type: 'breaker.success', at: 0, count: successes + 1 });
    actor.send({ type: 'breaker.failure', at: 1, failure: brokerFailure, count: failuresToTrip - 1 });
    expect(phaseOf(actor)).toEqual(inPhase('closed'));
  });

  it('counts batched outcomes by their count', () => {
    const { actor } = startRateBreaker();
    actor.send({ type: 'breaker.success', at: 0, count: successes });
    actor.send({ type: 'breaker.failure', at: 1, failure: brokerFailure, count: failuresToTrip });
    expect(phaseOf(actor)).toEqual(inPhase('open'));
  });

  it('lets old buckets slide out of the window', () => {
    const old = startRateBreaker();
    old.actor.send({ type: 'breaker.failure', at: 0, failure: brokerFailure, count: rate.minimumVolume - 1 });
    // A full window later the first bucket is gone: one failure is far below the volume.
    old.actor.send({ type: 'breaker.failure', at: rate.windowMs, failure: brokerFailure });
    expect(phaseOf(old.actor)).toEqual(inPhase('closed'));
    expect(old.actor.getSnapshot().context.window.length).toBe(1);

    const recent = startRateBreaker();
    recent.actor.send({
      type: 'breaker.failure',
      at: 0,
      failure: brokerFailure,
      count: rate.minimumVolume - 1,
    });
    // Still inside the window: the same failure now reaches the volume.
    recent.actor.send({ type: 'breaker.failure', at: rate.windowMs - 1, failure: brokerFailure });
    expect(phaseOf(recent.actor)).toEqual(inPhase('open'));
  });

  it('keeps no more buckets than the window holds', () => {
    const { actor } = startRateBreaker();
    for (let bucket = 0; bucket < rate.buckets * 3; bucket++) {
      actor.send({ type: 'breaker.success', at: bucket * bucketMs });
      expect(actor.getSnapshot().context.window.length).toBeLessThanOrEqual(rate.buckets);
    }
  });

  it('trips exactly when the outcomes in the last `buckets` buckets reach volume and rate', () => {
    const outcome = fc.record({
      failed: fc.boolean(),
      count: fc.integer({ min: 1, max: 3 }),
      gapMs: fc.integer({ min: 0, max: 2 * bucketMs }),
    });
    fc.assert(
      fc.property(fc.array(outcome, { maxLength: 120 }), (outcomes) => {
        const { actor } = startRateBreaker();
        const seen: { slot: number; failed: boolean; count: number }[] = [];
        let at = 0;
        for (const { failed, count, gapMs } of outcomes) {
          at += gapMs;
          const slot = Math.floor(at / bucketMs);
          seen.push({ slot, failed, count });
          actor.send(
            failed
              ? { type: 'breaker.failure', at, failure: brokerFailure, count }
              : { type: 'breaker.success', at, count },
          );
          const inWindow = seen.filter((entry) => entry.slot > slot - rate.buckets);
          const volume = inWindow.reduce((sum, entry) => sum + entry.count, 0);
          const failures = inWindow.reduce((sum, entry) => sum + (entry.failed ? entry.count : 0), 0);
          const trips = failed && volume >= rate.minimumVolume && failures / volume >= rate.threshold;
          expect(phaseOf(actor)).toEqual(inPhase(trips ? 'open' : 'closed'));
          if (trips) break;
        }
        actor.stop();
      }),
    );
  });
});
