/**
 * Model-based test of the supervisor's own transitions (the ready-made model of `ferry/testing`): its
 * children are stand-ins, and their snapshots and completions are the model's events. Paths are
 * generated from the machine itself, replayed against a live actor, and every state and transition
 * must be taken.
 */
import { describe, it } from 'vitest';
import { supervisorMachine } from '../../../machines/index.js';
import {
  CoverageTracker,
  ferryModels,
  modelPaths,
  replayPath,
  supervisorStandIns,
} from '../../../src/testing/index.js';

const model = ferryModels.supervisor;
const tracker = new CoverageTracker(supervisorMachine);

describe('supervisor model', () => {
  const paths = modelPaths(supervisorMachine, model);
  it.each(paths.map((path) => [path.description, path] as const))('%s', async (_, path) => {
    await replayPath(supervisorMachine, path, {
      input: model.input,
      actors: supervisorStandIns,
      inspect: tracker.inspect,
    });
  });
});

describe('supervisor model coverage', () => {
  it('took every state and every transition', () => {
    console.info(tracker.summary());
    tracker.assertComplete();
  });
});
