/**
 * Gives ferry's machines their effects: the supervisor with the connection and message machines
 * provided with the implementations of every named actor and action, taken from four narrow ports (the
 * runtime's, or a user's through `ferry/xstate`), and typed access to the supervisor's state for the
 * runtime.
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
 * How the supervisor reaches the broker: the connection machine's effects. ferry's runtime implements
 * it in connection-effects.ts.
 */
export interface SupervisorConnectionPort {
  /** `connection.connect`: open a connection (and whatever it needs), or reject; abandon it on `signal`. */
  connect(signal: AbortSignal): Promise<ConnectedEndpoint>;
  /**
   * `connection.watch`, while connected: hand the connection's signals (`connection.lost`,
   * `connection.blocked`, `connection.unblocked`) to `sink` until the returned function is called.
   */
  watch(sink: (event: ConnectionEvent) => void): () => void;
  /** `connection.healthCheck`: resolves when the broker answers; a rejection counts as a lost connection. */
  healthCheck(): Promise<void>;
  /** `connection.disconnect`: the graceful close. */
  disconnect(): Promise<void>;
  /** `connection.dropConnection`: destroy whatever is left of a connection being given up on. */
  dropConnection(): void;
}

/**
 * A message actor's writes and its outcome. ferry's runtime implements it in retries.ts.
 *
 * A retry's confirm does not settle `publishRetry`: send it to the supervisor actor as
 * `{ type: 'message.ack', messageId }` or `{ type: 'message.failed', messageId, failure }`.
 */
export interface SupervisorMessagePort {
  /** `message.publish`: write a retry; resolves once written, rejects when it cannot be. */
  publishRetry(input: MessageEffectInput): Promise<void>;
  /** `message.deadLetter`: hand the message to the dead-letter exchange; resolves on the broker's confirm. */
  deadLetter(input: MessageEffectInput): Promise<void>;
  /** `supervisor.reportOutcome`: the message actor ended, confirmed or dead-lettered. */
  reportOutcome(output: MessageOutput): void;
}

/**
 * Where tickets wait while every message actor slot (`maxLiveMessages`) is taken: a FIFO queue.
 * ferry's runtime implements it in retries.ts.
 */
export interface SupervisorBacklogPort {
  /** `supervisor.holdInBacklog`: keep `ticket` until a slot frees up. */
  holdInBacklog(ticket: RetryTicket): void;
  /**
   * `supervisor.releaseFromBacklog`: a slot freed up. Send the oldest held ticket back to the
   * supervisor actor as `{ type: 'message.retry', ticket, fromBacklog: true }`.
   */
  releaseFromBacklog(): void;
}

/** Records of a message actor's decisions, for recovery after a restart. ferry's journal takes them. */
export interface SupervisorJournalPort {
  /** `message.journalFailure`: the actor took in a failure. */
  journalFailure(context: MessageContext): void;
  /** `message.journalRetryScheduled`: a retry is planned after `context.nextDelayMs`. */
  journalRetryScheduled(context: MessageContext): void;
  /** `message.journalParked`: the dead-letter hand-off failed; the message waits to try it again. */
  journalParked(context: MessageContext): void;
}

/** Everything {@link provideSupervisor} needs: the supervisor machine's effects, grouped by what they touch. */
export interface SupervisorPorts {
  readonly connection: SupervisorConnectionPort;
  readonly messages: SupervisorMessagePort;
  readonly backlog: SupervisorBacklogPort;
  /** Without it nothing is recorded: a message actor's state lives only in the running actor. */
  readonly journal?: SupervisorJournalPort;
}

/** How {@link provideSupervisor} sets the machines up. */
export interface SupervisorProvision {
  /**
   * Who times out a retry's confirm. `'machine'` (the default): the message machine's
   * `confirmTimeoutMs`. `'ports'`: your writes have a deadline of their own and report a late confirm
   * as `message.failed`; the machine's timer then stands down so that the two cannot race.
   */
  readonly confirmDeadline?: 'machine' | 'ports';
}

/** The longest delay a Node timer takes (about 24.8 days): a timeout that does not fire. */
const NEVER_MS = 2_147_483_647;

const NO_JOURNAL: SupervisorJournalPort = {
  journalFailure: () => undefined,
  journalRetryScheduled: () => undefined,
  journalParked: () => undefined,
};

/**
 * The supervisor machine with every effect provided by `ports`: logic to run with `createActor`, or to
 * `invoke` or spawn from your own machine. Send it `{ type: 'supervisor.start' }` to connect.
 *
 * ```ts
 * const supervisor = createActor(provideSupervisor({ connection, messages, backlog }), {
 *   input: { seed: 1 },
 * }).start();
 * supervisor.send({ type: 'supervisor.start' });
 * ```
 */
export function provideSupervisor(
  ports: SupervisorPorts,
  provision: SupervisorProvision = {},
): typeof supervisorMachine {
  const { connection: link, messages, backlog } = ports;
  const journal = ports.journal ?? NO_JOURNAL;
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
    ...(provision.confirmDeadline === 'ports' ? { delays: { confirmTimeout: NEVER_MS } } : {}),
    actors: {
      publish: fromPromise<void, MessageEffectInput>(({ input }) => messages.publishRetry(input)),
      deadLetter: fromPromise<void, MessageEffectInput>(({ input }) => messages.deadLetter(input)),
    },
    actions: {
      journalFailure: ({ context }) => journal.journalFailure(context),
      journalRetryScheduled: ({ context }) => journal.journalRetryScheduled(context),
      journalParked: ({ context }) => journal.journalParked(context),
    },
  });
  return supervisorMachine.provide({
    actors: { connection, message },
    actions: {
      holdInBacklog: ({ event }) => {
        if (event.type === 'message.retry') backlog.holdInBacklog(event.ticket);
      },
      releaseFromBacklog: () => backlog.releaseFromBacklog(),
      reportOutcome: ({ event }) => {
        const output = messageOutputOf(event);
        if (output !== undefined) messages.reportOutcome(output);
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
