/**
 * A seeded pseudo-random source small enough to live in machine context.
 *
 * Jitter must not call `Math.random()` inside a transition: a journal replayed through the same
 * transitions has to reach the same delays. Keeping the generator state in context makes every
 * jittered delay a pure function of the journaled seed.
 *
 * The generator is mulberry32: 32 bits of state, full period, good enough for spreading retries.
 */

/** The generator state, a 32-bit unsigned integer. */
export type RandomState = number;

/** A draw: a value in `[0, 1)` and the state to use for the next draw. */
export interface RandomDraw {
  readonly value: number;
  readonly next: RandomState;
}

/** Turns any finite number (a timestamp, a hash) into a valid generator state. */
export function seedRandom(seed: number): RandomState {
  return (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
}

/** Draws the next value; pure, so replaying from the same state yields the same sequence. */
export function drawRandom(state: RandomState): RandomDraw {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  const value = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  return { value, next };
}
