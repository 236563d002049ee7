/**
 * Model-based test of the connection machine: paths generated from the machine itself, each replayed
 * against a live actor on a simulated clock, then a demand that every state and transition was taken.
 */
import { describe, expect, it } from 'vitest';
import type { SnapshotFrom } from 'xstate';
import { connectionMachine } from '../../../machines/index.js';
import {
  CoverageTracker,
  type ModelPath,
  modelPaths,
  replayPath,
  serializeWith,
} from '../../../src/testing/index.js';
import { connectionEvents, input } from './fixtures.js';

type ConnectionMachine = typeof connectionMachine;

/**
 * Guarded branches no event can take: `failWith` gives timers a `failureIsPermanent` branch too, but a
 * timer event carries no failure, so the guard never holds. Remove an entry once the machine drops it.
 */
const UNREACHABLE: string[] = [];

/** Attempts only matter up to the budget; beyond it, and in the PRNG state and counters, states are alike. */
const serializeState = serializeWith<SnapshotFrom<ConnectionMachine>>(({ context }) =>
  Math.min(context.attempts, context.settings.maxReconnectAttempts),
);

/**
 * The budget of 3 reaches `failed` by exhausting attempts while reconnecting; a budget of 1 is the only
 * one where a connected machine's first failure exhausts it.
 */
const configurations = [input, { ...input, settings: { ...input.settings, maxReconnectAttempts: 1 } }];

const tracker = new CoverageTracker(connectionMachine);

/** Steps whose event enters `reconnecting`/`failed` or leaves `closing`: the ones that must drop the connection. */
function stepsThatDrop(path: ModelPath<ConnectionMachine>): number[] {
  return path.steps.flatMap(({ state }, index) => {
    const previous = path.steps[index - 1]?.state;
    if (!previous) return [];
    const enters = (value: 'reconnecting' | 'failed') => state.matches(value) && !previous.matches(value);
    const leavesClosing = previous.matches('closing') && !state.matches('closing');
    return enters('reconnecting') || enters('failed') || leavesClosing ? [index] : [];
  });
}

for (const configuration of configurations) {
  const paths = modelPaths(connectionMachine, {
    input: configuration,
    events: connectionEvents,
    serializeState,
  });

  describe(`connection model, maxReconnectAttempts ${configuration.settings.maxReconnectAttempts}`, () => {
    it.each(paths.map((path) => [path.description, path] as const))('%s', async (_, path) => {
      const harness = await replayPath(connectionMachine, path, {
        input: configuration,
        inspect: tracker.inspect,
      });
      const drops = harness.actions.filter((action) => action.type === 'dropConnection').map((a) => a.step);
      expect(drops).toEqual(stepsThatDrop(path));
    });
  });
}

describe('connection model coverage', () => {
  it('took every state and every reachable transition', () => {
    console.info(tracker.summary());
    tracker.assertComplete({ unreachable: UNREACHABLE });
  });
});
