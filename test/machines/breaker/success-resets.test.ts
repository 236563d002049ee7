import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failTimes, inPhase, phaseOf, startBreaker } from '../support/breaker-harness.js';

describe('breaker: a success resets the consecutive count', () => {
  it('needs failureThreshold failures again after a success', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 30 }),
        fc.integer({ min: 1, max: 4 }),
        (failureThreshold, count) => {
          const { actor } = startBreaker({ failureThreshold });
          failTimes(actor, failureThreshold - 1);
          actor.send({ type: 'breaker.success', at: 0, count });
          expect(actor.getSnapshot().context.consecutiveFailures).toBe(0);

          failTimes(actor, failureThreshold - 1);
          expect(phaseOf(actor)).toEqual(inPhase('closed'));
          failTimes(actor, 1);
          expect(phaseOf(actor)).toEqual(inPhase('open'));
          actor.stop();
        },
      ),
    );
  });

  it('never opens while no run of failures reaches the threshold', () => {
    const outcomes = fc.array(fc.boolean(), { maxLength: 200 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), outcomes, (failureThreshold, failures) => {
        const { actor } = startBreaker({ failureThreshold });
        let run = 0;
        for (const failed of failures) {
          if (failed) failTimes(actor, 1);
          else actor.send({ type: 'breaker.success', at: 0 });
          run = failed ? run + 1 : 0;
          expect(phaseOf(actor)).toEqual(inPhase(run >= failureThreshold ? 'open' : 'closed'));
          if (run >= failureThreshold) break;
        }
        actor.stop();
      }),
    );
  });
});
