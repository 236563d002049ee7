/**
 * Test paths generated from a production machine itself ("Pattern B"): `xstate/graph` traverses the
 * machine with a catalogue of concrete events, internal `xstate.after.*` / `xstate.done.actor.*` /
 * `xstate.error.actor.*` events included, and every path is folded again through the pure `transition`
 * so that each step's expected snapshot is exactly what its event sequence produces.
 */
import {
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
  type InputFrom,
  initialTransition,
  type SnapshotFrom,
  type StateValue,
  transition,
} from 'xstate';
import {
  adjacencyMapToArray,
  getAdjacencyMap,
  getShortestPaths,
  getSimplePaths,
  serializeSnapshot,
} from 'xstate/graph';
import { type InitEvent, labelOf, type ModelEvent } from './model-events.js';

/** One step of a model path: the event delivered and the snapshot the machine must be in afterwards. */
export interface ModelStep<TMachine extends AnyStateMachine> {
  readonly event: ModelEvent<TMachine> | InitEvent;
  readonly state: SnapshotFrom<TMachine>;
}

/** A path through the machine; its first step is `xstate.init` with the initial snapshot. */
export interface ModelPath<TMachine extends AnyStateMachine> {
  /** `<final state>: <event> > <event> …`, unique among the paths of one `modelPaths` call. */
  readonly description: string;
  readonly steps: readonly ModelStep<TMachine>[];
}

/** Options of {@link modelPaths}. */
export interface ModelPathsOptions<TMachine extends AnyStateMachine> {
  /** The machine's input; context must be a pure function of it (seed any randomness from it). */
  readonly input: InputFrom<TMachine>;
  /**
   * Concrete events to try in every state; only those the state can take are used. A function gets the
   * snapshot and may vary payloads by state.
   */
  readonly events:
    | readonly ModelEvent<TMachine>[]
    | ((snapshot: SnapshotFrom<TMachine>) => readonly ModelEvent<TMachine>[]);
  /**
   * What makes two snapshots the same graph vertex. The default (value and whole context) never ends
   * for a machine whose context counts things or holds a PRNG state; use {@link serializeWith} to keep
   * only what guards read.
   */
  readonly serializeState?: (snapshot: SnapshotFrom<TMachine>) => string;
  /** Most snapshots the traversal may visit before it gives up with an error; 10,000 by default. */
  readonly limit?: number;
  /**
   * - `transitions` (default): the shortest path to every vertex, extended by each transition out of
   *   it, so every transition the catalogue can trigger is taken at least once.
   * - `shortest`: the shortest path to every vertex only (`getShortestPaths`).
   * - `simple`: every path that visits no vertex twice (`getSimplePaths`); grows fast.
   */
  readonly traversal?: 'transitions' | 'shortest' | 'simple';
  /** Event sequences (after `xstate.init`) for transitions the traversal does not take. */
  readonly extraPaths?: readonly (readonly ModelEvent<TMachine>[])[];
}

/**
 * A `serializeState` that keys a snapshot by its state value plus `select(snapshot)`, e.g. the attempt
 * count clamped at the budget: `serializeWith((s) => Math.min(s.context.attempts, max))`.
 */
export function serializeWith<TSnapshot extends { readonly value: StateValue }>(
  select: (snapshot: TSnapshot) => unknown,
): (snapshot: TSnapshot) => string {
  return (snapshot) => JSON.stringify([snapshot.value, select(snapshot)]);
}

const DEFAULT_LIMIT = 10_000;

/**
 * Generates test paths for `machine`: traversal paths (a path that is a prefix of another is dropped,
 * as the longer one asserts each of its steps) followed by the `extraPaths`.
 *
 * @throws Error when the traversal exceeds `limit`, when `serializeState` hides context a guard reads
 *   (a path then folds to another state than the traversal claimed), or when an extra path contains an
 *   event its state cannot take.
 */
export function modelPaths<TMachine extends AnyStateMachine>(
  machine: TMachine,
  options: ModelPathsOptions<TMachine>,
): ModelPath<TMachine>[] {
  const traversed = traverse(machine, options).map((claimed) => {
    const events = claimed.slice(1).map((step) => step.event as ModelEvent<TMachine>);
    const steps = fold(machine, options.input, events);
    claimed.forEach((step, index) => {
      const claimedValue = JSON.stringify((step.state as AnyMachineSnapshot).value);
      const foldedValue = JSON.stringify((steps[index]!.state as AnyMachineSnapshot).value);
      if (foldedValue !== claimedValue) {
        throw new Error(
          `modelPaths(${machine.id}): the traversal reached ${claimedValue} at step ${index} of ` +
            `[${events.map(labelOf).join(' > ')}], but these events lead to ${foldedValue}: ` +
            'serializeState merges snapshots that guards tell apart.',
        );
      }
    });
    return steps;
  });
  const extra = (options.extraPaths ?? []).map((events, index) =>
    fold(machine, options.input, events, `extra path ${index}`),
  );
  return withDescriptions([...withoutPrefixes(traversed), ...extra]);
}

type Steps<TMachine extends AnyStateMachine> = ModelStep<TMachine>[];

/** The traversal's paths as it claims them; its snapshots may come from other paths to the same vertex. */
function traverse<TMachine extends AnyStateMachine>(
  machine: TMachine,
  options: ModelPathsOptions<TMachine>,
): Steps<TMachine>[] {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const serialize = (options.serializeState ?? serializeSnapshot) as (snapshot: unknown) => string;
  // The graph functions type events as the machine's own; the synthetic ones are what Pattern B adds.
  const traversal = {
    input: options.input,
    events: options.events as never,
    // Without it every event is tried in every state, and an unhandled `xstate.error.actor.*` puts the
    // machine in an error snapshot that the traversal then records as if it were a state.
    filterEvents: (snapshot: AnyMachineSnapshot, event: EventObject) => snapshot.can(event),
    limit,
    serializeState: serialize,
  };
  try {
    if (options.traversal === 'simple') return stepsOf(getSimplePaths(machine, traversal));
    const shortest = stepsOf<TMachine>(getShortestPaths(machine, traversal));
    if (options.traversal === 'shortest') return shortest;
    const reach = new Map(shortest.map((steps) => [serialize(steps[steps.length - 1]!.state), steps]));
    return adjacencyMapToArray(getAdjacencyMap(machine, traversal)).map(({ state, event, nextState }) => [
      ...reach.get(serialize(state))!,
      { event: event as ModelEvent<TMachine>, state: nextState as SnapshotFrom<TMachine> },
    ]);
  } catch (error) {
    if (error instanceof Error && error.message === 'Traversal limit exceeded') {
      throw new Error(
        `modelPaths(${machine.id}): the traversal visited more than ${limit} snapshots. Give a ` +
          'serializeState that leaves out counters, PRNG state and other context guards do not read.',
        { cause: error },
      );
    }
    throw error;
  }
}

/** The steps of `xstate/graph` paths, typed as this module's. */
function stepsOf<TMachine extends AnyStateMachine>(
  paths: readonly { readonly steps: unknown }[],
): Steps<TMachine>[] {
  return paths.map((path) => path.steps as Steps<TMachine>);
}

/** Folds events through the pure transition function, checking each can be taken. */
function fold<TMachine extends AnyStateMachine>(
  machine: TMachine,
  input: unknown,
  events: readonly ModelEvent<TMachine>[],
  name?: string,
): Steps<TMachine> {
  let [state] = initialTransition(machine, input as never) as [AnyMachineSnapshot, unknown];
  const steps: Steps<TMachine> = [{ event: { type: 'xstate.init' }, state: state as SnapshotFrom<TMachine> }];
  events.forEach((event, index) => {
    if (name !== undefined && !state.can(event)) {
      throw new Error(
        `modelPaths(${machine.id}): ${name}, event ${index} (${JSON.stringify(event)}) cannot be taken ` +
          `in state ${JSON.stringify(state.value)}.`,
      );
    }
    [state] = transition(machine, state as never, event as never) as [AnyMachineSnapshot, unknown];
    steps.push({ event, state: state as SnapshotFrom<TMachine> });
  });
  return steps;
}

function eventKey(steps: Steps<AnyStateMachine>): string[] {
  return steps.map((step) => JSON.stringify(step.event));
}

/** Drops paths whose event sequence repeats or is a prefix of another's. */
function withoutPrefixes<TMachine extends AnyStateMachine>(paths: Steps<TMachine>[]): Steps<TMachine>[] {
  const keyed = paths.map((steps) => ({ steps, key: eventKey(steps) }));
  const isPrefix = (shorter: string[], longer: string[]) =>
    shorter.length <= longer.length && shorter.every((event, index) => longer[index] === event);
  return keyed
    .filter(
      ({ key }, index) =>
        !keyed.some(
          (other, otherIndex) =>
            (other.key.length > key.length || otherIndex < index) && isPrefix(key, other.key),
        ),
    )
    .map(({ steps }) => steps);
}

function describeValue(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([key, child]) => (child === undefined ? key : `${key}.${describeValue(child)}`))
    .join(', ');
}

function withDescriptions<TMachine extends AnyStateMachine>(paths: Steps<TMachine>[]): ModelPath<TMachine>[] {
  const seen = new Map<string, number>();
  return paths.map((steps) => {
    const last = steps[steps.length - 1]!.state as AnyMachineSnapshot;
    const events = steps.slice(1).map((step) => labelOf(step.event));
    const base = `${describeValue(last.value)}: ${events.length > 0 ? events.join(' > ') : '(initial)'}`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return { description: count === 1 ? base : `${base} #${count}`, steps };
  });
}
