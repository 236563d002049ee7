/**
 * Controllable stand-ins for a machine's actors: each invocation is a promise that stays pending until
 * the test settles it by invoke id, so `xstate.done.actor.<id>` / `xstate.error.actor.<id>` model
 * events can be delivered the way the real actor would deliver them.
 */
import { type AnyActorLogic, fromPromise } from 'xstate';

/** One start of a fake actor. */
export interface FakeInvocation {
  /** The invoke (or spawn) id, the `<id>` of `xstate.done.actor.<id>`. */
  readonly id: string;
  /** The actor's name in `setup({ actors })`. */
  readonly src: string;
  /** The input the machine gave it. */
  readonly input: unknown;
  /** Simulated time at which it started, in ms. */
  readonly startedAt: number;
}

/** How a pending fake ends. @internal */
export type Settlement = { readonly output: unknown } | { readonly error: unknown };

interface Deferred {
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The fakes of one live actor. Only the latest invocation per id can be settled; one that the machine
 * stopped (it left the invoking state) is forgotten, so settling it falls back to sending the event.
 *
 * @internal
 */
export class FakeActors {
  /** Every start, in order. */
  readonly invocations: FakeInvocation[] = [];
  readonly #pending = new Map<string, Deferred>();
  readonly #now: () => number;

  /** @param now - the simulated time, stamped on each invocation. */
  constructor(now: () => number) {
    this.#now = now;
  }

  /** A fake for the actor declared as `src`; callback actors are fine too, as they never settle. */
  logic(src: string): AnyActorLogic {
    return fromPromise<unknown, unknown>(
      ({ input, self, signal }) =>
        new Promise((resolve, reject) => {
          const deferred: Deferred = { resolve, reject };
          this.#pending.set(self.id, deferred);
          this.invocations.push({ id: self.id, src, input, startedAt: this.#now() });
          signal.addEventListener('abort', () => this.#forget(self.id, deferred), { once: true });
        }),
    );
  }

  /** Whether invocation `id` started and is neither settled nor stopped. */
  isPending(id: string): boolean {
    return this.#pending.has(id);
  }

  /** Settles the pending invocation `id`; false when there is none. */
  settle(id: string, settlement: Settlement): boolean {
    const deferred = this.#pending.get(id);
    if (!deferred) return false;
    this.#pending.delete(id);
    if ('error' in settlement) deferred.reject(settlement.error);
    else deferred.resolve(settlement.output);
    return true;
  }

  #forget(id: string, deferred: Deferred): void {
    if (this.#pending.get(id) === deferred) this.#pending.delete(id);
  }
}
