import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { brokerFailure, inPhase, phaseOf, startBreaker, tripBreaker } from '../support/breaker-harness.js';

const cooldownMs = fc.integer({ min: 1, max: 600_000 });

describe('breaker: open', () => {
  it('goes half-open after exactly cooldownMs, not a millisecond before', () => {
    fc.assert(
      fc.property(cooldownMs, (cooldown) => {
        const harness = startBreaker({ failureThreshold: 3, cooldownMs: cooldown });
        tripBreaker(harness);
        harness.clock.increment(cooldown - 1);
        expect(phaseOf(harness.actor)).toEqual(inPhase('open'));
        harness.clock.increment(1);
        expect(phaseOf(harness.actor)).toEqual(inPhase('halfOpen'));
        expect(harness.actor.getSnapshot().context.probeTaken).toBe(false);
        harness.actor.stop();
      }),
    );
  });

  it('ignores late outcomes: they neither change its counts nor move its cooldown', () => {
    const lateOutcomes = fc.array(
      fc.record({ failed: fc.boolean(), count: fc.integer({ min: 1, max: 5 }), afterMs: fc.nat(999) }),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(lateOutcomes, (outcomes) => {
        const cooldown = 1_000;
        const harness = startBreaker({
          failureThreshold: 2,
          cooldownMs: cooldown,
          failureRate: { windowMs: 10_000, buckets: 10, minimumVolume: 1, threshold: 0.5 },
        });
        tripBreaker(harness);
        const before = harness.actor.getSnapshot().context;
        for (const { failed, count, afterMs } of outcomes) {
          const at = harness.clock.now() + afterMs;
          harness.actor.send(
            failed
              ? { type: 'breaker.failure', at, failure: brokerFailure, count }
              : { type: 'breaker.success', at, count },
          );
          expect(phaseOf(harness.actor)).toEqual(inPhase('open'));
        }
        expect(harness.actor.getSnapshot().context).toEqual(before);
        harness.clock.increment(cooldown - 1);
        expect(phaseOf(harness.actor)).toEqual(inPhase('open'));
        harness.clock.increment(1);
        expect(phaseOf(harness.actor)).toEqual(inPhase('halfOpen'));
        harness.actor.stop();
      }),
    );
  });
});
