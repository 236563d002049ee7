/**
 * The events a model path is made of: a machine's own events plus the internal events that its timers
 * and invoked actors produce. Graph traversal needs the internal ones spelled out as plain events; replay
 * turns them back into elapsed time and settled actors.
 */
import type { AnyStateMachine, EventFromLogic, SnapshotEvent } from 'xstate';

/** A timer firing: `xstate.after.<delay>.<stateNodeId>`, as XState names the event of an `after` key. */
export interface AfterEvent {
  readonly type: `xstate.after.${string}`;
}

/** An invoked actor finishing: `xstate.done.actor.<invokeId>` with the actor's `output`. */
export interface DoneActorEvent {
  readonly type: `xstate.done.actor.${string}`;
  readonly output?: unknown;
}

/**
 * An invoked actor failing: `xstate.error.actor.<invokeId>` with what it rejected with. Keep `error` plain
 * data: traversal tells events apart by their JSON, and every `Error` serialises to `{}`.
 */
export interface ErrorActorEvent {
  readonly type: `xstate.error.actor.${string}`;
  readonly error: unknown;
}

/** The first step of every path: the actor starting. Replay does nothing for it. */
export interface InitEvent {
  readonly type: 'xstate.init';
}

/** The internal events a model may contain. */
export type SyntheticEvent = AfterEvent | DoneActorEvent | ErrorActorEvent | SnapshotEvent;

/** Any event a model path may contain for `TMachine`. */
export type ModelEvent<TMachine extends AnyStateMachine> = EventFromLogic<TMachine> | SyntheticEvent;

/**
 * The event of an `after` timer.
 *
 * @param delay - the name from `setup({ delays })`, or the number of an inline `after: { 5000: … }`.
 * @param stateNodeId - the full id of the state node that owns the timer, e.g. `connection.connecting`.
 */
export function afterEvent(delay: string | number, stateNodeId: string): AfterEvent {
  return { type: `xstate.after.${delay}.${stateNodeId}` };
}

/** The event of an invoked actor resolving with `output`. */
export function doneEvent(invokeId: string, output?: unknown): DoneActorEvent {
  return output === undefined
    ? { type: `xstate.done.actor.${invokeId}` }
    : { type: `xstate.done.actor.${invokeId}`, output };
}

/** The event of an invoked actor rejecting with `error` (plain data, see {@link ErrorActorEvent}). */
export function errorEvent(invokeId: string, error: unknown): ErrorActorEvent {
  return { type: `xstate.error.actor.${invokeId}`, error };
}

/**
 * Every timer event the machine declares, one per `after` key of every state node, so that an event
 * catalogue cannot miss or misspell one.
 */
export function timerEvents(machine: AnyStateMachine): AfterEvent[] {
  const visit = (node: AnyStateMachine['root']): AfterEvent[] => [
    ...[...node.transitions.keys()]
      .filter((type) => type.startsWith('xstate.after.'))
      .map((type) => ({ type: type as AfterEvent['type'] })),
    ...Object.values(node.states).flatMap(visit),
  ];
  return visit(machine.root);
}

/** How replay delivers an event. @internal */
export type EventKind =
  | { readonly kind: 'init' }
  | { readonly kind: 'after'; readonly delay: string }
  | { readonly kind: 'done'; readonly invokeId: string }
  | { readonly kind: 'error'; readonly invokeId: string }
  | { readonly kind: 'send' };

const AFTER = /^xstate\.after\.([^.]+)\.(.+)$/;
const DONE = 'xstate.done.actor.';
const ERROR = 'xstate.error.actor.';

/** Classifies an event by its type. @internal */
export function kindOf(event: { readonly type: string }): EventKind {
  const { type } = event;
  if (type === 'xstate.init') return { kind: 'init' };
  const after = AFTER.exec(type);
  if (after) return { kind: 'after', delay: after[1]! };
  if (type.startsWith(DONE)) return { kind: 'done', invokeId: type.slice(DONE.length) };
  if (type.startsWith(ERROR)) return { kind: 'error', invokeId: type.slice(ERROR.length) };
  return { kind: 'send' };
}

/** A short label for path descriptions: `after:connectTimeout`, `done:connect`, `error:connect`. @internal */
export function labelOf(event: { readonly type: string }): string {
  const kind = kindOf(event);
  switch (kind.kind) {
    case 'after':
      return `after:${kind.delay}`;
    case 'done':
      return `done:${kind.invokeId}`;
    case 'error':
      return `error:${kind.invokeId}`;
    default:
      return event.type;
  }
}
