/**
 * Model-based test of the breaker: paths generated from the machine itself (both trip rules), each
 * replayed against a live actor on a simulated clock, then a demand that every state and transition was
 * taken.
 */
import { describe, it } from 'vitest';
import type { SnapshotFrom } from 'xstate';
import { type BreakerInput, breakerMachine, type Failure } from '../../../machines/index.js';
import {
  CoverageTracker,
  type ModelEvent,
  modelPaths,
  replayPath,
  serializeWith,
  timerEvents,
} from '../../../src/testing/index.js';

type BreakerMachine = typeof breakerMachine;

const nacked: Failure = { code: 'NACKED', message: 'nacked', permanent: false };

const events: ModelEvent<BreakerMachine>[] = [
  { type: 'breaker.success', at: 0 },
  { type: 'breaker.failure', at: 0, failure: nacked },
  { type: 'breaker.probe' },
  { type: 'breaker.reset' },
  ...timerEvents(breakerMachine),
];

/** Consecutive failures up to the threshold, the probe flag and the window's totals are what guards read. */
const serializeState = serializeWith<SnapshotFrom<BreakerMachine>>(({ context }) => [
  Math.min(context.consecutiveFailures, context.settings.failureThreshold),
  context.probeTaken,
  // Window totals past a few outcomes change no decision at these thresholds.
  context.window
    .reduce((sum, bucket) => [sum[0]! + bucket.successes, sum[1]! + bucket.failures], [0, 0])
    .map((total) => Math.min(total, 3)),
]);

const configurations: { name: string; input: BreakerInput }[] = [
  { name: 'consecutive failures', input: { settings: { failureThreshold: 2, cooldownMs: 100 } } },
  {
    name: 'failure rate',
    input: {
      settings: {
        failureThreshold: 4,
        cooldownMs: 100,
        failureRate: { windowMs: 1_000, buckets: 2, minimumVolume: 2, threshold: 0.5 },
      },
    },
  },
];

const tracker = new CoverageTracker(breakerMachine);

for (const { name, input } of configurations) {
  describe(`breaker model, ${name}`, () => {
    const paths = modelPaths(breakerMachine, { input, events, serializeState });
    it.each(paths.map((path) => [path.description, path] as const))('%s', async (_, path) => {
      await replayPath(breakerMachine, path, { input, inspect: tracker.inspect });
    });
  });
}

describe('breaker model coverage', () => {
  it('took every state and every transition', () => {
    console.info(tracker.summary());
    tracker.assertComplete();
  });
});
