import { describe, expect, it } from 'vitest';
import { assign, initialTransition, setup, transition } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import {
  afterEvent,
  doneEvent,
  errorEvent,
  type ModelEvent,
  type ModelPath,
  modelPaths,
  serializeWith,
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

/** Counts `inc` forever: no traversal with the default serializer ends. */
const counter = setup({
  types: { context: {} as { count: number }, events: {} as { type: 'inc' } | { type: 'go' } },
  guards: { counted: ({ context }) => context.count > 0 },
}).createMachine({
  id: 'counter',
  context: { count: 0 },
  initial: 'a',
  states: {
    a: {
      on: {
        inc: { target: 'b', actions: assign({ count: ({ context }) => context.count + 1 }) },
        go: 'b',
      },
    },
    b: {
      on: {
        go: [{ guard: 'counted', target: 'c' }, { target: 'd' }],
        inc: { actions: assign({ count: ({ context }) => context.count + 1 }) },
      },
    },
    c: {},
    d: {},
  },
});
const byValue = serializeWith<ReturnType<typeof counter.transition>>(() => null);

function eventTypes(path: ModelPath<Job>): string[] {
  return path.steps.map((step) => step.event.type);
}

describe('model events', () => {
  it('name timers, done and error events the way XState names their transitions', () => {
    const types = [...jobMachine.root.states.running!.transitions.keys()];
    expect(types).toContain(afterEvent(1000, 'job.running').type);
    expect(types).toContain(doneEvent('work').type);
    expect(types).toContain(errorEvent('work', 'x').type);
    expect(timerEvents(jobMachine)).toEqual([
      afterEvent(1000, 'job.running'),
      afterEvent('backoff', 'job.waiting'),
    ]);
  });

  it('leave output out of a done event without one', () => {
    expect(doneEvent('work')).not.toHaveProperty('output');
    expect(doneEvent('work', 'ok')).toEqual({ type: 'xstate.done.actor.work', output: 'ok' });
  });
});

describe('modelPaths', () => {
  const paths = modelPaths(jobMachine, { input, events });

  it('starts every path with xstate.init in the initial snapshot', () => {
    const [initial] = initialTransition(jobMachine, input);
    for (const path of paths) {
      expect(path.steps[0]!.event).toEqual({ type: 'xstate.init' });
      expect(path.steps[0]!.state.value).toEqual(initial.value);
      expect(path.steps[0]!.state.context).toEqual(initial.context);
    }
  });

  it('gives each step the snapshot its events lead to', () => {
    for (const path of paths) {
      let [state] = initialTransition(jobMachine, input);
      for (const step of path.steps.slice(1)) {
        [state] = transition(jobMachine, state, step.event as never);
        expect({ value: step.state.value, context: step.state.context }).toEqual({
          value: state.value,
          context: state.context,
        });
      }
    }
  });

  it('drops paths that are prefixes of others and describes each uniquely', () => {
    const sequences = paths.map((path) => eventTypes(path).join(' '));
    for (const sequence of sequences) {
      expect(sequences.filter((other) => other !== sequence && other.startsWith(`${sequence} `))).toEqual([]);
    }
    expect(new Set(paths.map((path) => path.description)).size).toBe(paths.length);
    expect(paths.map((path) => path.description)).toContain(
      'done: start > error:work > after:backoff > done:work',
    );
  });

  it('takes each transition out of every vertex by default, where shortest paths take some', () => {
    const edges = (all: ModelPath<Job>[]) =>
      new Set(
        all.flatMap((path) =>
          path.steps.slice(1).map((step, index) => {
            const { value, context } = path.steps[index]!.state;
            return JSON.stringify([value, context, step.event]);
          }),
        ),
      );
    const adjacency = getAdjacencyMap(jobMachine, {
      input,
      events: events as never,
      filterEvents: (snapshot, event) => snapshot.can(event),
    });
    const all = Object.values(adjacency).flatMap((vertex) => Object.keys(vertex.transitions));
    expect(edges(paths).size).toBe(all.length);
    expect(edges(modelPaths(jobMachine, { input, events, traversal: 'shortest' })).size).toBeLessThan(
      all.length,
    );
  });

  it('appends extra paths as given', () => {
    const extra = [
      { type: 'start' },
      errorEvent('work', 'boom'),
      afterEvent('backoff', 'job.waiting'),
    ] as const;
    const withExtra = modelPaths(jobMachine, { input, events, extraPaths: [extra] });
    const last = withExtra.at(-1)!;
    expect(last.steps.slice(1).map((step) => step.event)).toEqual(extra);
    expect(last.steps.at(-1)!.state.context.tries).toBe(2);
  });

  it('rejects an extra path with an event its state cannot take', () => {
    expect(() => modelPaths(jobMachine, { input, events, extraPaths: [[{ type: 'cancel' }]] })).toThrow(
      /extra path 0, event 0 \(\{"type":"cancel"\}\) cannot be taken in state "idle"/,
    );
  });

  it('gives up with advice when the traversal does not end', () => {
    expect(() => modelPaths(counter, { input: undefined, events: [{ type: 'inc' }], limit: 50 })).toThrow(
      /visited more than 50 snapshots\. Give a serializeState/,
    );
  });

  it('rejects a serializeState that merges snapshots a guard tells apart', () => {
    const options = {
      input: undefined,
      events: [{ type: 'inc' }, { type: 'go' }] as const,
      serializeState: byValue,
    };
    expect(() => modelPaths(counter, { ...options, traversal: 'simple' })).toThrow(
      /the traversal reached "c" at step 2 of \[go > go\], but these events lead to "d"/,
    );
  });
});

describe('xstate/graph as found in 5.33.3', () => {
  it('labels steps with snapshots of other paths to the same vertex when serializeState is lossy', () => {
    const events = [{ type: 'inc' }, { type: 'go' }] as const;
    const stale = getShortestPaths(counter, { events: [...events], serializeState: byValue }).flatMap(
      (path) => {
        let [state] = initialTransition(counter);
        return path.steps.slice(1).filter((step) => {
          [state] = transition(counter, state, step.event);
          return step.state.context.count !== state.context.count;
        });
      },
    );
    // modelPaths folds every path again for this reason; if this starts failing, the fold can go.
    expect(stale.length).toBeGreaterThan(0);
  });
});
