import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { brokerFailure, failTimes, inPhase, phaseOf, startBreaker } from '../support/breaker-harness.js';

const threshold = fc.integer({ min: 1, max: 30 });

describe('breaker: consecutive failures', () => {
  it('stays closed below failureThreshold and opens on the failure that reaches it', () => {
    fc.assert(
      fc.property(threshold, (failureThreshold) => {
        const { actor } = startBreaker({ failureThreshold });
        failTimes(actor, failureThreshold - 1);
        expect(phaseOf(actor)).toEqual(inPhase('closed'));
        expect(actor.getSnapshot().context.consecutiveFailures).toBe(failureThreshold - 1);
        expect(actor.getSnapshot().context.trips).toBe(0);

        failTimes(actor, 1);
        expect(phaseOf(actor)).toEqual(inPhase('open'));
        expect(actor.getSnapshot().context.trips).toBe(1);
        expect(actor.getSnapshot().context.lastFailure).toEqual(brokerFailure);
        actor.stop();
      }),
    );
  });

  it('counts a batched failure event as `count` failures', () => {
    const batches = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(threshold, batches, (failureThreshold, counts) => {
        const { actor } = startBreaker({ failureThreshold });
        let total = 0;
        for (const count of counts) {
          actor.send({ type: 'breaker.failure', at: 0, failure: brokerFailure, count });
          total += count;
          if (total >= failureThreshold) {
            expect(phaseOf(actor)).toEqual(inPhase('open'));
            expect(actor.getSnapshot().context.trips).toBe(1);
            break;
          }
          expect(phaseOf(actor)).toEqual(inPhase('closed'));
          expect(actor.getSnapshot().context.consecutiveFailures).toBe(total);
        }
        actor.stop();
      }),
    );
  });
});
