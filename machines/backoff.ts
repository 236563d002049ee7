/**
 * Pure delay computation for reconnects and message retries.
 *
 * Randomness is a parameter, never `Math.random()`, so a replayed journal computes the same delays.
 */

/**
 * How a computed exponential delay is spread out so that many clients do not retry in lockstep.
 *
 * - `none`: the exponential delay itself.
 * - `proportional`: the default shape, `base + base · factor · r`: never below the planned delay, so a backoff step is never skipped (factor 0.3 by default).
 * - `full`: `r · base` ("full jitter").
 * - `equal`: `base / 2 + r · base / 2` ("equal jitter").
 * - `decorrelated`: `min(max, initial + r · (3 · previous − initial))`, growing from the previous delay
 *   rather than the attempt number ("decorrelated jitter").
 */
export type JitterStrategy = 'none' | 'proportional' | 'full' | 'equal' | 'decorrelated';

/** The list of jitter strategies, for validation and property tests. */
export const JITTER_STRATEGIES: readonly JitterStrategy[] = [
  'none',
  'proportional',
  'full',
  'equal',
  'decorrelated',
];

/** An exponential backoff with a cap and a jitter strategy. */
export interface BackoffPolicy {
  /** Delay before the first retry, in ms. */
  readonly initialDelayMs: number;
  /** Cap on the exponential part, in ms. */
  readonly maxDelayMs: number;
  /** Growth per attempt; 2 doubles. */
  readonly multiplier: number;
  readonly jitter: JitterStrategy;
  /** For `proportional` only: the largest fraction of the delay added on top. */
  readonly jitterFactor: number;
}

/** The default reconnect policy: 500 ms doubling to 32 s, plus 0–30 % so that instances spread out. */
export const DEFAULT_RECONNECT_BACKOFF: BackoffPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 32_000,
  multiplier: 2,
  jitter: 'proportional',
  jitterFactor: 0.3,
};

/** The default message retry policy: 1 s doubling to 10 s, plus 0–30 % so that retries spread out. */
export const DEFAULT_RETRY_BACKOFF: BackoffPolicy = {
  initialDelayMs: 1_000,
  maxDelayMs: 10_000,
  multiplier: 2,
  jitter: 'proportional',
  jitterFactor: 0.3,
};

/**
 * The exponential part for a 1-based attempt: `initial · multiplier^(attempt−1)`, capped at `maxDelayMs`.
 */
export function exponentialDelay(policy: BackoffPolicy, attempt: number): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const raw = policy.initialDelayMs * policy.multiplier ** exponent;
  return Number.isFinite(raw) ? Math.min(policy.maxDelayMs, raw) : policy.maxDelayMs;
}

/**
 * The delay before a 1-based `attempt`, in whole milliseconds.
 *
 * @param random - a value in `[0, 1)`, drawn by the caller from its seeded source.
 * @param previousDelayMs - the delay used before the previous attempt; only `decorrelated` reads it
 *   and it defaults to the initial delay.
 *
 * Bounds: every strategy but `proportional` stays within `[0, maxDelayMs]`; `proportional` adds its
 * jitter on top of the capped delay, so it stays within `[base, maxDelayMs · (1 + jitterFactor)]` and
 * keeps spreading clients even once they all reached the cap.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: number,
  previousDelayMs: number = policy.initialDelayMs,
): number {
  const base = exponentialDelay(policy, attempt);
  switch (policy.jitter) {
    case 'none':
      return Math.round(base);
    case 'proportional':
      return Math.round(base + base * policy.jitterFactor * random);
    case 'full':
      return Math.round(base * random);
    case 'equal':
      return Math.round(base / 2 + (base / 2) * random);
    case 'decorrelated': {
      const low = Math.min(policy.initialDelayMs, policy.maxDelayMs);
      const high = Math.max(low, Math.min(policy.maxDelayMs, previousDelayMs * 3));
      return Math.round(low + (high - low) * random);
    }
  }
}

/** The largest delay a policy can produce, used to size timeouts and to back off "at once" to the max. */
export function maxBackoffDelay(policy: BackoffPolicy): number {
  return policy.jitter === 'proportional'
    ? Math.round(policy.maxDelayMs * (1 + policy.jitterFactor))
    : policy.maxDelayMs;
}
