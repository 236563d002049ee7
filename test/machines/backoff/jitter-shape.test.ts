import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, exponentialDelay } from '../../../machines/backoff.js';
import {
  attemptNumber,
  backoffPolicy,
  isRoundingOfRange,
  previousDelay,
  unitRandom,
} from '../support/backoff-arbitraries.js';

describe('jitter shapes', () => {
  it('every strategy is non-decreasing in the random draw', () => {
    fc.assert(
      fc.property(
        backoffPolicy(),
        attemptNumber,
        unitRandom,
        unitRandom,
        previousDelay,
        (policy, attempt, a, b, previous) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          expect(backoffDelay(policy, attempt, low, previous)).toBeLessThanOrEqual(
            backoffDelay(policy, attempt, high, previous),
          );
        },
      ),
    );
  });

  it('none is the exponential delay itself and ignores the draw', () => {
    fc.assert(
      fc.property(backoffPolicy('none'), attemptNumber, unitRandom, (policy, attempt, random) => {
        const delay = backoffDelay(policy, attempt, random);
        expect(delay).toBe(backoffDelay(policy, attempt, 0));
        const base = exponentialDelay(policy, attempt);
        expect(isRoundingOfRange(delay, base, base)).toBe(true);
      }),
    );
  });

  it('full with draw r is r · base', () => {
    fc.assert(
      fc.property(backoffPolicy('full'), attemptNumber, unitRandom, (policy, attempt, random) => {
        const scaled = random * exponentialDelay(policy, attempt);
        expect(isRoundingOfRange(backoffDelay(policy, attempt, random), scaled, scaled)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(backoffPolicy('full'), attemptNumber, (policy, attempt) => {
        expect(backoffDelay(policy, attempt, 0)).toBe(0);
      }),
    );
  });

  it('equal keeps at least half of base and at most base', () => {
    fc.assert(
      fc.property(backoffPolicy('equal'), attemptNumber, unitRandom, (policy, attempt, random) => {
        const base = exponentialDelay(policy, attempt);
        expect(isRoundingOfRange(backoffDelay(policy, attempt, random), base / 2, base)).toBe(true);
      }),
    );
  });

  it('proportional adds at most jitterFactor · base on top of base', () => {
    fc.assert(
      fc.property(backoffPolicy('proportional'), attemptNumber, unitRandom, (policy, attempt, random) => {
        const base = exponentialDelay(policy, attempt);
        const delay = backoffDelay(policy, attempt, random);
        expect(isRoundingOfRange(delay, base, base * (1 + policy.jitterFactor))).toBe(true);
        expect(backoffDelay(policy, attempt, 0)).toBe(Math.round(base));
      }),
    );
  });

  it('decorrelated grows from the previous delay, at most threefold, not from the attempt number', () => {
    fc.assert(
      fc.property(
        backoffPolicy('decorrelated'),
        attemptNumber,
        attemptNumber,
        unitRandom,
        previousDelay,
        (policy, attempt, otherAttempt, random, previous) => {
          const delay = backoffDelay(policy, attempt, random, previous);
          expect(delay).toBe(backoffDelay(policy, otherAttempt, random, previous));
          const low = Math.min(policy.initialDelayMs, policy.maxDelayMs);
          expect(delay).toBeLessThanOrEqual(Math.max(low, Math.min(policy.maxDelayMs, 3 * previous)));
          expect(backoffDelay(policy, attempt, 0, previous)).toBe(low);
        },
      ),
    );
  });

  it('decorrelated defaults the previous delay to the initial delay', () => {
    fc.assert(
      fc.property(backoffPolicy('decorrelated'), attemptNumber, unitRandom, (policy, attempt, random) => {
        expect(backoffDelay(policy, attempt, random)).toBe(
          backoffDelay(policy, attempt, random, policy.initialDelayMs),
        );
      }),
    );
  });
});
