/**
 * The attempts ferry gets in the cluster suite's rolling restart, written out whole: the fault
 * producers start from FAST_OPTIONS (retry delays of 20 ms doubling to 200 ms), and a `retry` given on
 * top of them replaces only the fields it names.
 */
import { DEFAULT_RETRY_BACKOFF } from '../../machines/backoff.js';
import type { RetryOptions } from '../../src/producer/producer-options.js';

/**
 * Messages published while a node restarts can come back unroutable, and what is still returned after
 * the last attempt is dead-lettered as RETURNED, which issue 19 does not allow. `{ maxAttempts: 10 }`
 * alone kept FAST_OPTIONS' delays: its nine waits came to about 1.3 s (1.7 s with jitter), and one run
 * on the loaded machine dead-lettered 128 messages while its three restarts took 7 s in all. Ten
 * attempts with the default backoff (1 s doubling to 10 s) wait about 65 s, a loaded node's whole
 * restart, as docs/scaling.md advises a cluster's users.
 */
export const ROLLING_RESTART_RETRY: RetryOptions = {
  maxAttempts: 10,
  initialDelayMs: DEFAULT_RETRY_BACKOFF.initialDelayMs,
  maxDelayMs: DEFAULT_RETRY_BACKOFF.maxDelayMs,
};
