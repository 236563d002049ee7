import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, exponentialDelay, maxBackoffDelay } from '../../../machines/backoff.js';
import {
  attemptNumber,
  backoffPolicy,
  hugeAttempt,
  previousDelay,
  unitRandom,
} from '../support/backoff-arbitraries.js';

describe('exponentialDelay', () => {
  it('starts at the initial delay (capped) for the first attempt and below', () => {
    fc.assert(
      fc.property(backoffPolicy(), fc.integer({ min: -5, max: 1 }), (policy, attempt) => {
        expect(exponentialDelay(policy, attempt)).toBe(Math.min(policy.initialDelayMs, policy.maxDelayMs));
      }),
    );
  });

  it('is monotonic non-decreasing in the attempt', () => {
    fc.assert(
      fc.property(backoffPolicy(), attemptNumber, fc.nat(200), (policy, attempt, step) => {
        expect(exponentialDelay(policy, attempt + step)).toBeGreaterThanOrEqual(
          exponentialDelay(policy, attempt),
        );
      }),
    );
  });

  it('grows by the multiplier per attempt until it reaches the cap', () => {
    fc.assert(
      fc.property(backoffPolicy(), fc.integer({ min: 1, max: 60 }), (policy, attempt) => {
        const current = exponentialDelay(policy, attempt);
        const next = exponentialDelay(policy, attempt + 1);
        if (current < policy.maxDelayMs) {
          expect(next).toBeCloseTo(Math.min(policy.maxDelayMs, current * policy.multiplier), 6);
        } else {
          expect(next).toBe(policy.maxDelayMs);
        }
      }),
    );
  });

  it('never exceeds maxDelayMs', () => {
    fc.assert(
      fc.property(backoffPolicy(), fc.oneof(attemptNumber, hugeAttempt), (policy, attempt) => {
        expect(exponentialDelay(policy, attempt)).toBeLessThanOrEqual(policy.maxDelayMs);
      }),
    );
  });

  it('gives the cap for huge and infinite attempts of a growing policy', () => {
    fc.assert(
      fc.property(backoffPolicy(undefined, { minMultiplier: 1.5, minInitialMs: 1 }), hugeAttempt, (p, a) => {
        expect(exponentialDelay(p, a)).toBe(p.maxDelayMs);
      }),
    );
  });

  it('gives the cap for an infinite attempt whatever the policy (the connection machine relies on it)', () => {
    fc.assert(
      fc.property(backoffPolicy(), (policy) => {
        expect(exponentialDelay(policy, Number.POSITIVE_INFINITY)).toBe(policy.maxDelayMs);
      }),
    );
  });

  it('never produces NaN or Infinity, even for nonsensical attempts', () => {
    const anyAttempt = fc.oneof(
      attemptNumber,
      hugeAttempt,
      fc.constantFrom(Number.NaN, Number.NEGATIVE_INFINITY, -Number.MAX_VALUE),
      fc.double(),
    );
    fc.assert(
      fc.property(backoffPolicy(), anyAttempt, unitRandom, previousDelay, (policy, attempt, random, prev) => {
        expect(Number.isFinite(exponentialDelay(policy, attempt))).toBe(true);
        const delay = backoffDelay(policy, attempt, random, prev);
        expect(Number.isFinite(delay)).toBe(true);
        expect(delay).toBeLessThanOrEqual(maxBackoffDelay(policy));
      }),
    );
  });
});
