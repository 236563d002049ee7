/**
 * A ferry producer as actor logic for your own XState v5 machine: `invoke` it with the producer
 * options as input. It starts the producer, tells its parent about every change of the supervisor's
 * state, publishes what the parent sends and answers each request with its outcome, and closes the
 * producer when the parent stops it (leaving the state that invoked it, or stopping itself).
 *
 * Built on `createProducer` alone: the producer behaves as it does anywhere else (accepted messages
 * are journaled, retried, dead-lettered, never dropped).
 */
import { fromCallback } from 'xstate';
import { FerryError } from '../errors.js';
import { createProducer, type ProducerDependencies } from '../producer/producer.js';
import type { ProducerOptions } from '../producer/producer-options.js';
import type { PublishRequest } from '../producer/publish-request.js';
import type { Settlement } from '../producer/receipt.js';
import type { SupervisorSummary } from '../producer/status.js';

/** What the producer actor takes as `input`: the producer options, and optionally its dependencies. */
export interface ProducerActorInput {
  readonly options?: ProducerOptions;
  /** For tests and embedding: a journal or broker of your own, a clock, an inspector. */
  readonly dependencies?: ProducerDependencies;
}

/** What the parent sends the producer actor. */
export type ProducerActorCommand = {
  readonly type: 'ferry.publish';
  /** Echoed in the answers, so that the parent can tell its requests apart. */
  readonly requestId: string;
  readonly request: PublishRequest;
};

/** What the producer actor sends its parent. */
export type ProducerActorEvent =
  /** The supervisor's state changed (connection phase, breaker, whether messages are being sent). */
  | { readonly type: 'ferry.status'; readonly status: SupervisorSummary }
  /** `start()` failed (a permanent error such as bad credentials); the producer keeps trying. */
  | { readonly type: 'ferry.startFailed'; readonly error: FerryError }
  /** The request was accepted: from now on ferry owns the message. */
  | { readonly type: 'ferry.accepted'; readonly requestId: string; readonly messageId: string }
  /** The accepted message reached its outcome. */
  | {
      readonly type: 'ferry.settled';
      readonly requestId: string;
      readonly messageId: string;
      readonly outcome: Settlement;
    }
  /**
   * The request was refused (invalid message, buffer full, breaker open with `breaker.failFastWhenOpen`), or
   * the producer closed before the accepted message settled (`CLOSED`; it stays journaled).
   */
  | { readonly type: 'ferry.rejected'; readonly requestId: string; readonly error: FerryError };

/**
 * The producer as invokable actor logic.
 *
 * ```ts
 * const parent = setup({ actors: { ferry: producerActor } }).createMachine({
 *   invoke: { id: 'ferry', src: 'ferry', input: { options: { url } } },
 *   on: { 'ferry.status': { actions: ({ event }) => console.log(event.status.connection) } },
 * });
 * ```
 */
export const producerActor = fromCallback<ProducerActorCommand, ProducerActorInput, ProducerActorEvent>(
  ({ input, sendBack, receive }) => {
    const producer = createProducer(input.options ?? {}, input.dependencies ?? {});
    let stopped = false;
    const tell = (event: ProducerActorEvent): void => {
      if (!stopped) sendBack(event);
    };
    const status = producer.state$.subscribe((summary) => tell({ type: 'ferry.status', status: summary }));
    producer
      .start()
      .catch((error: unknown) => tell({ type: 'ferry.startFailed', error: FerryError.from(error) }));
    receive(({ requestId, request }) => {
      const refuse = (error: unknown): void =>
        tell({ type: 'ferry.rejected', requestId, error: FerryError.from(error) });
      producer.publish(request).then((receipt) => {
        const { messageId } = receipt;
        tell({ type: 'ferry.accepted', requestId, messageId });
        receipt.settled.then(
          (outcome) => tell({ type: 'ferry.settled', requestId, messageId, outcome }),
          refuse,
        );
      }, refuse);
    });
    return () => {
      stopped = true;
      status.unsubscribe();
      // Stopping cannot wait: the close drains in the background, and what it leaves stays journaled.
      producer.close().catch(() => undefined);
    };
  },
);
