/**
 * What an observer of the producer's actor system receives, stated without importing XState, so that
 * `ProducerDependencies` can be named from the root entry point under `skipLibCheck: false` (XState's
 * own declarations do not check under `exactOptionalPropertyTypes`). XState's `InspectionEvent` has
 * these fields and more; an observer that needs the rest narrows with its own XState types.
 */

/** One inspection event of the actor system: an actor created, an event delivered, a snapshot, … */
export interface ActorSystemEvent {
  /** `@xstate.actor`, `@xstate.event`, `@xstate.snapshot`, `@xstate.microstep` or `@xstate.action`. */
  readonly type: string;
  /** The session id of the actor system's root actor. */
  readonly rootId: string;
  /** The actor the event concerns (an XState `ActorRef`). */
  readonly actorRef: unknown;
}

/** Observes the actor system: pass one as `createProducer(options, { inspect })`. */
export type ActorSystemInspector = (event: ActorSystemEvent) => void;
