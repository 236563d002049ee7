import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BackoffPolicy, backoffDelay } from '../../../machines/backoff.js';
import { drawRandom, seedRandom } from '../../../machines/random.js';
import { backoffPolicy } from '../support/backoff-arbitraries.js';

/** The delays a machine computes for attempts 1..n, drawing from a source seeded with `seed`. */
function delaySequence(policy: BackoffPolicy, seed: number, length: number): number[] {
  let state = seedRandom(seed);
  let previous = policy.initialDelayMs;
  const delays: number[] = [];
  for (let attempt = 1; attempt <= length; attempt++) {
    const draw = drawRandom(state);
    state = draw.next;
    previous = backoffDelay(policy, attempt, draw.value, previous);
    delays.push(previous);
  }
  return delays;
}

const uint32 = fc.nat({ max: 0xffffffff });

/** Policies whose draws visibly move the delay: jittered, with a spread of many milliseconds. */
const spreadingPolicy = fc
  .constantFrom('full', 'equal', 'proportional', 'decorrelated' as const)
  .chain((jitter) => backoffPolicy(jitter, { minInitialMs: 100 }))
  .map((policy) => ({
    ...policy,
    maxDelayMs: Math.max(policy.maxDelayMs, 4 * policy.initialDelayMs),
    jitterFactor: Math.max(policy.jitterFactor, 0.1),
  }));

describe('backoff determinism', () => {
  it('the same seed gives the same delay sequence', () => {
    fc.assert(
      fc.property(backoffPolicy(), uint32, (policy, seed) => {
        expect(delaySequence(policy, seed, 30)).toEqual(delaySequence(policy, seed, 30));
      }),
    );
  });

  it('different seeds give sequences that differ somewhere', () => {
    fc.assert(
      fc.property(spreadingPolicy, uint32, uint32, (policy, a, b) => {
        fc.pre(a !== b);
        expect(delaySequence(policy, a, 30)).not.toEqual(delaySequence(policy, b, 30));
      }),
    );
  });
});
