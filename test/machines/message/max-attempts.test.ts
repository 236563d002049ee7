import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failNextAttempt, nacked, startMessage } from '../support/message-harness.js';
import { until } from '../support/settle.js';

describe('message: maxAttempts', () => {
  it('makes maxAttempts attempts in all, then dead-letters', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), async (max, first) => {
        const attempts = Math.min(first, max);
        const harness = startMessage({ attempts, settings: { maxAttempts: max } });
        for (let made = attempts; made < max; made++) await failNextAttempt(harness);

        const { actor, publish, deadLetter } = harness;
        expect(actor.getSnapshot().value).toEqual({ deadLettering: 'sending' });
        expect(actor.getSnapshot().hasTag('deadLettering')).toBe(true);
        expect(publish.calls).toHaveLength(max - attempts);
        expect(deadLetter.calls).toHaveLength(1);
        expect(deadLetter.latest().input).toEqual({
          messageId: 'message-1',
          attempts: max,
          lastFailure: nacked,
        });

        deadLetter.latest().resolve();
        const done = await until(actor, (snapshot) => snapshot.status === 'done');
        expect(done.value).toBe('deadLettered');
        expect(done.output).toEqual({
          messageId: 'message-1',
          outcome: 'dead-lettered',
          attempts: max,
          lastFailure: nacked,
        });
      }),
      { numRuns: 30 },
    );
  });
});
