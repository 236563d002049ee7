/**
 * The cluster suite's rolling restart gives ferry's attempts a node's whole restart. It lives here, not
 * in test/cluster, so that `npm test` checks it: the cluster suite runs only in `.ci/run`.
 */
import { describe, expect, it } from 'vitest';
import { exponentialDelay } from '../../machines/backoff.js';
import { resolveOptions } from '../../src/producer/options.js';
import { ROLLING_RESTART_RETRY } from '../cluster/rolling-restart-retry.js';
import { FAST_OPTIONS } from '../integration/support/producer.js';
import { mergeOptions } from './merge-options.js';

/** The least a message's attempts can wait in all: the waits between them, jitter left out. */
function leastRetryWaitMs(retry: ReturnType<typeof resolveOptions>['retry']): number {
  let total = 0;
  for (let attempt = 1; attempt < retry.maxAttempts; attempt += 1) {
    total += exponentialDelay(retry.retry, attempt);
  }
  return total;
}

describe('the rolling restart scenario', () => {
  it('waits at least a minute over its attempts, over the fast retry delays of the fault producers', () => {
    // As faultProducer builds it: FAST_OPTIONS first, the scenario's retry on top.
    const { retry } = resolveOptions(mergeOptions(FAST_OPTIONS, { retry: ROLLING_RESTART_RETRY }));
    expect(retry.maxAttempts).toBe(10);
    expect(leastRetryWaitMs(retry)).toBe(1_000 + 2_000 + 4_000 + 8_000 + 5 * 10_000);
  });
});
