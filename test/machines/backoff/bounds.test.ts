import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, exponentialDelay, maxBackoffDelay } from '../../../machines/backoff.js';
import {
  attemptNumber,
  backoffPolicy,
  isRoundingOfRange,
  previousDelay,
  unitRandom,
} from '../support/backoff-arbitraries.js';

describe('backoffDelay bounds', () => {
  it.each(['none', 'full', 'equal'] as const)('%s stays within [0, maxDelayMs]', (jitter) => {
    fc.assert(
      fc.property(backoffPolicy(jitter), attemptNumber, unitRandom, (policy, attempt, random) => {
        const delay = backoffDelay(policy, attempt, random);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(policy.maxDelayMs);
      }),
    );
  });

  it('proportional stays within [base, maxDelayMs · (1 + jitterFactor)]', () => {
    fc.assert(
      fc.property(backoffPolicy('proportional'), attemptNumber, unitRandom, (policy, attempt, random) => {
        const delay = backoffDelay(policy, attempt, random);
        const base = exponentialDelay(policy, attempt);
        expect(isRoundingOfRange(delay, base, policy.maxDelayMs * (1 + policy.jitterFactor))).toBe(true);
      }),
    );
  });

  it('decorrelated stays within [min(initialDelayMs, maxDelayMs), maxDelayMs] whatever came before', () => {
    fc.assert(
      fc.property(
        backoffPolicy('decorrelated'),
        attemptNumber,
        unitRandom,
        previousDelay,
        (policy, attempt, random, previous) => {
          const delay = backoffDelay(policy, attempt, random, previous);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(Math.min(policy.initialDelayMs, policy.maxDelayMs));
          expect(delay).toBeLessThanOrEqual(policy.maxDelayMs);
        },
      ),
    );
  });

  it('maxBackoffDelay bounds every strategy from above', () => {
    fc.assert(
      fc.property(
        backoffPolicy(),
        attemptNumber,
        unitRandom,
        previousDelay,
        (policy, attempt, random, previous) => {
          expect(backoffDelay(policy, attempt, random, previous)).toBeLessThanOrEqual(
            maxBackoffDelay(policy),
          );
        },
      ),
    );
  });

  it('maxBackoffDelay is reached: the capped attempt with the largest draw comes within rounding of it', () => {
    const largestDraw = 1 - Number.EPSILON;
    fc.assert(
      fc.property(backoffPolicy(), (policy) => {
        const capped = backoffDelay(policy, Number.POSITIVE_INFINITY, largestDraw, policy.maxDelayMs);
        expect(maxBackoffDelay(policy) - capped).toBeLessThanOrEqual(1);
      }),
    );
  });
});
