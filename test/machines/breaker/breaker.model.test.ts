/**
 * Model-based test of the breaker (the ready-made model of `ferry/testing`, with both trip rules): paths
 * generated from the machine itself, each replayed against a live actor on a simulated clock, then a
 * demand that every state and transition was taken.
 */
import { describe, it } from 'vitest';
import { type BreakerInput, breakerMachine } from '../../../machines/index.js';
import { CoverageTracker, ferryModels, modelPaths, replayPath } from '../../../src/testing/index.js';

const model = ferryModels.breaker;
const configurations: { name: string; input: BreakerInput }[] = [
  { name: 'consecutive failures', input: model.input },
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
    const paths = modelPaths(breakerMachine, { ...model, input });
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
