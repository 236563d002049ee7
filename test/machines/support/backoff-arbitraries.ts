/**
 * fast-check arbitraries for backoff policies and random draws, shared by the backoff property tests.
 */
import fc from 'fast-check';
import { type BackoffPolicy, JITTER_STRATEGIES, type JitterStrategy } from '../../../machines/backoff.js';

/** A draw of the seeded source: `[0, 1)`. */
export const unitRandom = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

/** A 1-based attempt, with a few nonsensical ones (0, negatives) mixed in. */
export const attemptNumber = fc.integer({ min: -3, max: 200 });

/** Attempts so large that any growing exponential has passed every cap, plus the non-finite extremes. */
export const hugeAttempt = fc.oneof(
  fc.integer({ min: 2_000, max: Number.MAX_SAFE_INTEGER }),
  fc.constant(Number.MAX_VALUE),
  fc.constant(Number.POSITIVE_INFINITY),
);

/** A previous delay as the decorrelated strategy sees it. */
export const previousDelay = fc.integer({ min: 0, max: 1_000_000 });

/** Whole-millisecond policies, as configuration produces them; `jitter` fixed when given. */
export function backoffPolicy(
  jitter?: JitterStrategy,
  limits: { readonly minMultiplier?: number; readonly minInitialMs?: number } = {},
): fc.Arbitrary<BackoffPolicy> {
  return fc.record({
    initialDelayMs: fc.integer({ min: limits.minInitialMs ?? 0, max: 60_000 }),
    maxDelayMs: fc.integer({ min: 0, max: 600_000 }),
    multiplier: fc.double({ min: limits.minMultiplier ?? 1, max: 10, noNaN: true }),
    jitter: jitter === undefined ? fc.constantFrom(...JITTER_STRATEGIES) : fc.constant(jitter),
    jitterFactor: fc.double({ min: 0, max: 1, noNaN: true }),
  });
}

/** Whether `value` is a whole number that a rounding of some real in `[low, high]` can produce. */
export function isRoundingOfRange(value: number, low: number, high: number): boolean {
  return Number.isInteger(value) && value >= low - 0.5 && value <= high + 0.5;
}
