/**
 * Gives ferry's machines their effects: the supervisor with the connection and message machines
 * provided with the runtime's implementations of every named actor and action, and typed access to
 * the supervisor's state for the runtime.
 */
import { type Actor, fromCallback, fromPromise } from 'xstate';
import type { BreakerContext } from '../../machines/breaker.machine.js';
import {
  type ConnectedEndpoint,
  type ConnectionContext,
  type ConnectionEvent,
  connectionMachine,
} from '../../machines/connection.machine.js';
import type { MessageContext, MessageEffectInput, MessageOutput } from '../../machines/message.machine.js';
import { messageMachine } from '../../machines/message.machine.js';
import {
  messageOutputOf,
  type RetryTicket,
  type SupervisorContext,
  supervisorMachine,
} from '../../machines/supervisor.machine.js';

/**
 * The connection machine's effects (connection-effects.ts implements them).
 *
 * @internal
 */
export interface ConnectionMachineEffects {
  /** `connection.connect`: open a session, declare the topology, attach it to the hot path. */
  connect(signal: AbortSignal): Promise<ConnectedEndpoint>;
  /** `connection.watch`: deliver connection signals to the machine until the returned function is called. */
  watch(sink: (event: ConnectionEvent) => void): () => void;
  /** `connection.healthCheck`. */
  healthCheck(): Promise<void>;
  /** `connection.disconnect`: graceful close. */
  disconnect(): Promise<void>;
  /** `connection.dropConnection`: destroy whatever is left of the session. */
  dropConnection(): void;
}

/**
 * The message machine's and the supervisor's message effects (retries.ts implements them).
 *
 * @internal
 */
export interface MessageMachineEffects {
  /** `message.publish`: write the message for its actor; rejects when it cannot. */
  publishRetry(input: MessageEffectInput): Promise<void>;
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
 * What the runtime does for the machines.
 *
 * @internal
 */
export interface MachineEffects {
  readonly connection: ConnectionMachineEffects;
  readonly retries: MessageMachineEffects;
}

/** The longest delay a Node timer takes (about 24.8 days): a timeout that does not fire. */
const NEVER_MS = 2_147_483_647;

/**
 * The supervisor machine with every effect provided.
 *
 * @internal
 */
export function provideSupervisor(effects: MachineEffects) {
  const { connection: link, retries } = effects;
  const connection = connectionMachine.provide({
    actors: {
      connect: fromPromise<ConnectedEndpoint, { readonly attempt: number }>(({ signal }) =>
        link.connect(signal),
      ),
      watch: fromCallback<ConnectionEvent>(({ sendBack }) => link.watch(sendBack)),
      healthCheck: fromPromise(() => link.healthCheck()),
      disconnect: fromPromise(() => link.disconnect()),
    },
    actions: { dropConnection: () => link.dropConnection() },
  });
  const message = messageMachine.provide({
    // The hot path's confirm deadline (confirm-deadline.ts) is the one owner of every write's deadline,
    // an actor's included: it reports a late confirm as `confirm.failed`. The machine's own timeout,
    // for the machine run on its own, stands down here so the two cannot race.
    delays: { confirmTimeout: NEVER_MS },
    actors: {
      publish: fromPromise<void, MessageEffectInput>(({ input }) => retries.publishRetry(input)),
      deadLetter: fromPromise<void, MessageEffectInput>(({ input }) => retries.deadLetter(input)),
    },
    actions: {
      journalFailure: ({ context }) => retries.journalFailure(context),
      journalRetryScheduled: ({ context }) => retries.journalRetryScheduled(context),
      journalParked: ({ context }) => retries.journalParked(context),
    },
  });
  return supervisorMachine.provide({
    actors: { connection, message },
    actions: {
      holdInBacklog: ({ event }) => {
        if (event.type === 'message.retry') retries.holdInBacklog(event.ticket);
      },
      releaseFromBacklog: () => retries.releaseFromBacklog(),
      reportOutcome: ({ event }) => {
        const output = messageOutputOf(event);
        if (output !== undefined) retries.reportOutcome(output);
      },
    },
  });
}

/**
 * The running supervisor with its effects.
 *
 * @internal
 */
export type SupervisorActor = Actor<ReturnType<typeof provideSupervisor>>;

/**
 * The supervisor's state and its connection's and breaker's contexts (`null` while they do not run).
 *
 * @internal
 */
export interface SupervisorState {
  readonly context: SupervisorContext;
  readonly connection: ConnectionContext | null;
  readonly breaker: BreakerContext | null;
  /** Whether the supervisor still takes events. */
  readonly active: boolean;
}

/**
 * Reads the supervisor's state, through its typed children.
 *
 * @internal
 */
export function supervisorView(actor: SupervisorActor): SupervisorState {
  const snapshot = actor.getSnapshot();
  const { children } = snapshot;
  return {
    context: snapshot.context,
    connection: children.connection?.getSnapshot().context ?? null,
    breaker: children.breaker?.getSnapshot().context ?? null,
    active: snapshot.status === 'active',
  };
}
