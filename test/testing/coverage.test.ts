import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import {
  afterEvent,
  CoverageTracker,
  createHarness,
  doneEvent,
  errorEvent,
  machineInventory,
} from '../../src/testing/index.js';
import { jobMachine } from './job-machine.js';

const input = { retries: 2 };

describe('machineInventory', () => {
  it('lists every state node, the root included, and every transition with a stable key', () => {
    const inventory = machineInventory(jobMachine);
    expect(inventory.states).toEqual([
      'job',
      'job.idle',
      'job.running',
      'job.failing',
      'job.waiting',
      'job.done',
    ]);
    expect(inventory.transitions).toEqual([
      'job.idle --start--> job.running',
      'job.running --cancel--> job.done',
      'job.running --xstate.done.actor.work--> job.done',
      'job.running --xstate.error.actor.work--> job.failing',
      'job.running --xstate.after.1000.job.running--> job.failing',
      'job.failing --always--> job.waiting [canRetry]',
      'job.failing --always--> job.done',
      'job.waiting --xstate.after.backoff.job.waiting--> job.running',
    ]);
  });

  it('tells identical sibling transitions apart', () => {
    const machine = createMachine({
      id: 'twins',
      on: { ping: [{ actions: () => undefined }, { actions: () => undefined }] },
    });
    expect(machineInventory(machine).transitions).toEqual([
      'twins --ping--> (none) #1',
      'twins --ping--> (none) #2',
    ]);
  });
});

describe('CoverageTracker', () => {
  it('records event, timer, done, error and eventless transitions from microsteps', async () => {
    const tracker = new CoverageTracker(jobMachine);
    const harness = createHarness(jobMachine, { input, inspect: tracker.inspect });
    for (const event of [
      { type: 'start' },
      errorEvent('work', 'boom'),
      afterEvent('backoff', 'job.waiting'),
      afterEvent(1000, 'job.running'),
    ] as const) {
      await harness.apply(event);
    }
    harness.stop();

    expect(tracker.report()).toEqual({
      states: { covered: 6, total: 6, missing: [] },
      transitions: {
        covered: 6,
        total: 8,
        missing: ['job.running --cancel--> job.done', 'job.running --xstate.done.actor.work--> job.done'],
      },
    });
    expect(tracker.summary()).toBe(
      'job: states 6/6 (100%), transitions 6/8 (75%); missing: job.running --cancel--> job.done; ' +
        'job.running --xstate.done.actor.work--> job.done',
    );
  });

  it('counts only actors of its machine', async () => {
    const tracker = new CoverageTracker(jobMachine);
    const other = createMachine({
      id: 'other',
      initial: 'idle',
      states: { idle: { on: { start: 'done' } }, done: {} },
    });
    const harness = createHarness(other, { input: undefined, inspect: tracker.inspect });
    await harness.apply({ type: 'start' });
    harness.stop();
    expect(tracker.report().states.covered).toBe(0);
  });

  it('demands full coverage, allowing only transitions declared unreachable', async () => {
    const tracker = new CoverageTracker(jobMachine);
    const harness = createHarness(jobMachine, { input, inspect: tracker.inspect });
    await harness.apply({ type: 'start' });
    await harness.apply(doneEvent('work', 'ok'));
    harness.stop();
    const { states, transitions } = tracker.report();
    const missing = [...states.missing, ...transitions.missing];

    expect(() => tracker.assertComplete()).toThrow(/not covered: job.running --cancel--> job.done/);
    expect(() => tracker.assertComplete({ unreachable: missing })).not.toThrow();
    expect(() =>
      tracker.assertComplete({ unreachable: [...missing, 'job.idle --start--> job.running'] }),
    ).toThrow('declared unreachable but covered: job.idle --start--> job.running');
    expect(() =>
      tracker.assertComplete({ unreachable: [...missing, 'job.idle --stop--> job.done'] }),
    ).toThrow('declared unreachable but not in the machine: job.idle --stop--> job.done');
  });
});
