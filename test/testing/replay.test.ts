import { describe, expect, it } from 'vitest';
import { fromPromise } from 'xstate';
import {
  afterEvent,
  doneEvent,
  errorEvent,
  type ModelEvent,
  modelPaths,
  replayPath,
  timerEvents,
} from '../../src/testing/index.js';
import { jobMachine } from './job-machine.js';

type Job = typeof jobMachine;
const input = { retries: 2 };
const events: ModelEvent<Job>[] = [
  { type: 'start' },
  { type: 'cancel' },
  doneEvent('work', 'ok'),
  errorEvent('work', 'boom'),
  ...timerEvents(jobMachine),
];
const paths = modelPaths(jobMachine, { input, events });

function pathTo(sequence: readonly ModelEvent<Job>[]) {
  return modelPaths(jobMachine, { input, events: [], extraPaths: [sequence] })[0]!;
}

describe('replayPath', () => {
  it.each(paths.map((path) => [path.description, path] as const))('replays %s', async (_, path) => {
    const harness = await replayPath(jobMachine, path, { input });
    expect(harness.step).toBe(path.steps.length - 1);
  });

  it('names the path, the step and the difference when the live actor diverges', async () => {
    const path = pathTo([{ type: 'start' }, doneEvent('work', 'ok')]);
    const eager = fromPromise<string, { readonly try: number }>(async () => 'eager');
    const replay = replayPath(jobMachine, path, { input, actors: { work: eager } });
    await expect(replay).rejects.toThrow(
      /"done: start > done:work" diverged at step 1 of 2, \{"type":"start"\}/,
    );
    await expect(replay).rejects.toThrow(/\+ {3}value: 'done'[\s\S]*- {3}value: 'running'/);
  });

  it('compares the projected context only when given a projection', async () => {
    const path = pathTo([{ type: 'start' }]);
    const otherInput = { retries: 5 };
    await expect(replayPath(jobMachine, path, { input: otherInput })).rejects.toThrow(/diverged at step 0/);
    const { tries, result } = path.steps[1]!.state.context;
    const harness = await replayPath(jobMachine, path, {
      input: otherInput,
      project: (context) => ({ tries: context.tries, result: context.result }),
    });
    expect(harness.actor.getSnapshot().context).toMatchObject({ tries, result });
  });

  it('returns the stopped harness with the actions of each step', async () => {
    const path = pathTo([{ type: 'start' }, afterEvent(1000, 'job.running')]);
    const harness = await replayPath(jobMachine, path, { input });
    expect(harness.actor.getSnapshot().status).toBe('stopped');
    expect(harness.actions.map((action) => [action.step, action.type])).toEqual([[2, 'report']]);
  });
});
