/**
 * Gives ferry's machines their effects: the supervisor with the connection and message machines
 * provided with the runtime's implementations of every named actor and action.
 */
import { fromCallback, fromPromise } from 'xstate';
import {
  type ConnectedEndpoint,
  type ConnectionEvent,
  connectionMachine,
} from '../../machines/connection.machine.js';
import type { MessageContext, MessageEffectInput, MessageOutput } from '../../machines/message.machine.js';
import { messageMachine } from '../../machines/message.machine.js';
import { type RetryTicket, supervisorMachine } from '../../machines/supervisor.machine.js';

/**
 * What the runtime does for the machines; each member implements one named actor or action.
 *
 * @internal
 */
export interface MachineEffects {
  /** `connection.connect`: open a session, declare the topology, attach it to the publisher. */
  connect(signal: AbortSignal): Promise<ConnectedEndpoint>;
  /** `connection.watch`: deliver connection signals to the machine until the returned function is called. */
  watch(sink: (event: ConnectionEvent) => void): () => void;
  /** `connection.healthCheck`. */
  healthCheck(): Promise<void>;
  /** `connection.disconnect`: graceful close. */
  disconnect(): Promise<void>;
  /** `connection.dropConnection`: destroy whatever is left of the session. */
  dropConnection(): void;
  /** `message.publish`: write the message for its actor (maybe once a reopening channel is back); throws when it cannot. */
  publishRetry(input: MessageEffectInput): Promise<void> | undefined;
  /** `message.deadLetter`: confirmed publish to the dead-letter exchange. */
  deadLetter(input: MessageEffectInput): Promise<void>;
  /** `message.journalFailure`. */
  journalFailure(context: MessageContext): void;
  /** `message.journalRetryScheduled`. */
  journalRetryScheduled(context: MessageContext): void;
  /** `message.journalParked`. */
  journalParked(context: MessageContext): void;
  /** `supervisor.holdInBacklog`. */
  holdInBacklog(ticket: RetryTicket): void;
  /** `supervisor.releaseFromBacklog`. */
  releaseFromBacklog(): void;
  /** `supervisor.reportOutcome`. */
  reportOutcome(output: MessageOutput): void;
}

/**
 * The supervisor machine with every effect provided.
 *
 * @internal
 */
export function provideSupervisor(effects: MachineEffects) {
  const connection = connectionMachine.provide({
    actors: {
      connect: fromPromise<ConnectedEndpoint, { readonly attempt: number }>(({ signal }) =>
        effects.connect(signal),
      ),
      watch: fromCallback<ConnectionEvent>(({ sendBack }) => effects.watch(sendBack)),
      healthCheck: fromPromise(() => effects.healthCheck()),
      disconnect: fromPromise(() => effects.disconnect()),
    },
    actions: { dropConnection: () => effects.dropConnection() },
  });
  const message = messageMachine.provide({
    actors: {
      publish: fromPromise<void, MessageEffectInput>(async ({ input }) => effects.publishRetry(input)),
      deadLetter: fromPromise<void, MessageEffectInput>(({ input }) => effects.deadLetter(input)),
    },
    actions: {
      journalFailure: ({ context }) => effects.journalFailure(context),
      journalRetryScheduled: ({ context }) => effects.journalRetryScheduled(context),
      journalParked: ({ context }) => effects.journalParked(context),
    },
  });
  return supervisorMachine.provide({
    actors: { connection, message },
    actions: {
      holdInBacklog: ({ event }) => {
        if (event.type === 'message.retry') effects.holdInBacklog(event.ticket);
      },
      releaseFromBacklog: () => effects.releaseFromBacklog(),
      reportOutcome: ({ event }) =>
        effects.reportOutcome((event as unknown as { output: MessageOutput }).output),
    },
  });
}
