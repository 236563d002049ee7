/**
 * A live actor of a production machine on a simulated clock, with every declared actor replaced by a
 * controllable fake: the substrate of {@link replayPath} and of hand-written behaviour tests.
 */
import {
  type Actor,
  type AnyActorLogic,
  type AnyActorRef,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  type InputFrom,
  type InspectionEvent,
  SimulatedClock,
} from 'xstate';
import { FakeActors, type FakeInvocation, type Settlement } from './fake-actors.js';
import { type InitEvent, kindOf, type ModelEvent } from './model-events.js';

/** Options of {@link createHarness}. */
export interface HarnessOptions<TMachine extends AnyStateMachine> {
  readonly input: InputFrom<TMachine>;
  /**
   * Implementations to use instead of fakes, by name in `setup({ actors })`: a logic of your own, or
   * `'keep'` for the declared one (child machines that must stay real). A kept child machine runs its
   * own declared actors; give it a `.provide()`d copy instead if those must be fakes too.
   */
  readonly actors?: Readonly<Record<string, AnyActorLogic | 'keep'>>;
  /** Also receives every inspection event of the system, e.g. `tracker.inspect` of a `CoverageTracker`. */
  readonly inspect?: (event: InspectionEvent) => void;
}

/** A named action the system executed (XState's built-in `xstate.*` actions are left out). */
export interface ExecutedAction {
  /** How many events had been applied when it ran; 0 is the start. Equals the index of a path step. */
  readonly step: number;
  /** The id of the actor that ran it; the root actor's id is the machine id. */
  readonly actorId: string;
  readonly type: string;
  readonly params: unknown;
}

/** A started live actor and the means to drive it; see {@link createHarness}. */
export interface MachineHarness<TMachine extends AnyStateMachine> {
  readonly actor: Actor<TMachine>;
  readonly clock: SimulatedClock;
  readonly actions: readonly ExecutedAction[];
  /** Every fake invocation so far, in start order. */
  readonly invocations: readonly FakeInvocation[];
  /** Errors the actor reported (an unhandled `xstate.error.actor.*` puts it in `error` status). */
  readonly errors: readonly unknown[];
  /** Events applied so far (`xstate.init` excluded). */
  readonly step: number;
  /**
   * Delivers a model event and waits until settled promises have been processed:
   * `xstate.init` does nothing; `xstate.after.<delay>.<id>` advances the clock by that delay evaluated on
   * the live context; `xstate.done.actor.<id>` / `xstate.error.actor.<id>` settle the pending fake `<id>`
   * (or are sent as they are when none is pending); anything else is sent.
   */
  apply(event: ModelEvent<TMachine> | InitEvent): Promise<void>;
  /** Advances the simulated clock and waits until settled promises have been processed. */
  advance(ms: number): Promise<void>;
  /** Whether the fake with this invoke id is started and not yet settled. */
  isPending(invokeId: string): boolean;
  stop(): void;
}

/** Lets the promise queue run: a settled fake reaches the machine within one macrotask. */
function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** What a done/error event settles its fake with. */
function settlementOf(event: { readonly type: string }): Settlement {
  return event.type.startsWith('xstate.done.')
    ? { output: (event as { readonly output?: unknown }).output }
    : { error: (event as { readonly error?: unknown }).error };
}

/**
 * Starts `machine` with `input` on a fresh `SimulatedClock`, every actor of `setup({ actors })` replaced
 * by a fake unless `options.actors` says otherwise. Actors given inline (not by name) cannot be replaced
 * and run as they are.
 *
 * @example
 * ```ts
 * const harness = createHarness(connectionMachine, { input: { seed: 1 } });
 * await harness.apply({ type: 'connection.open' });
 * await harness.apply(errorEvent('connect', { code: 'ECONNREFUSED', message: 'refused', permanent: false }));
 * await harness.advance(harness.actor.getSnapshot().context.nextDelayMs);
 * expect(harness.invocations.map((i) => i.input)).toEqual([{ attempt: 1 }, { attempt: 2 }]);
 * harness.stop();
 * ```
 *
 * @throws Error when `options.actors` names an actor the machine does not declare.
 */
export function createHarness<TMachine extends AnyStateMachine>(
  machine: TMachine,
  options: HarnessOptions<TMachine>,
): MachineHarness<TMachine> {
  const clock = new SimulatedClock();
  const fakes = new FakeActors(() => clock.now());
  const declared = machine.implementations.actors as Record<string, AnyActorLogic>;
  for (const name of Object.keys(options.actors ?? {})) {
    if (!(name in declared)) throw new Error(`createHarness(${machine.id}): no actor '${name}' in setup`);
  }
  const actors = Object.fromEntries(
    Object.keys(declared).map((name) => {
      const choice = options.actors?.[name];
      return [name, choice === 'keep' ? declared[name] : (choice ?? fakes.logic(name))];
    }),
  );
  const actions: ExecutedAction[] = [];
  const errors: unknown[] = [];
  let step = 0;
  let lastEvent: { readonly type: string } = { type: 'xstate.init' };

  const actor = createActor(
    machine.provide({ actors } as never) as TMachine,
    {
      clock,
      id: machine.id,
      input: options.input,
      inspect: (event: InspectionEvent) => {
        if (event.type === '@xstate.action' && !event.action.type.startsWith('xstate.')) {
          const { type, params } = event.action;
          actions.push({ step, actorId: (event.actorRef as AnyActorRef).id, type, params });
        }
        options.inspect?.(event);
      },
    } as never,
  ) as Actor<TMachine>;
  actor.subscribe({ error: (error) => errors.push(error) });
  actor.start();

  /**
   * Evaluates a delay as XState did when it armed the timer: on the live context (the one at arming
   * time unless a targetless transition changed it since) and on the event applied before the timer,
   * taken to be the one that entered the state.
   */
  const delayOf = (name: string, event: { readonly type: string }): number => {
    if (/^\d+$/.test(name)) return Number(name);
    const delay = (machine.implementations.delays as Record<string, unknown>)[name];
    if (typeof delay === 'number') return delay;
    if (typeof delay === 'function') {
      const { context } = actor.getSnapshot() as AnyMachineSnapshot;
      const args = { context, event, self: actor, system: actor.system };
      return delay(args, undefined) as number;
    }
    throw new Error(`createHarness(${machine.id}): no delay '${name}' in setup`);
  };

  return {
    actor,
    clock,
    actions,
    invocations: fakes.invocations,
    errors,
    get step() {
      return step;
    },
    async apply(event) {
      const kind = kindOf(event);
      if (kind.kind === 'init') return;
      const entering = lastEvent;
      step += 1;
      lastEvent = event;
      if (kind.kind === 'after') {
        clock.increment(delayOf(kind.delay, entering));
      } else if (kind.kind === 'send' || !fakes.settle(kind.invokeId, settlementOf(event))) {
        actor.send(event as never);
      }
      await flush();
    },
    async advance(ms) {
      clock.increment(ms);
      await flush();
    },
    isPending: (invokeId) => fakes.isPending(invokeId),
    stop: () => actor.stop(),
  };
}
