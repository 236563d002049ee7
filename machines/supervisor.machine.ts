/**
 * The supervisor: the root of ferry's actor system. It runs the connection and the breaker, spawns a
 * message actor for each message that left the healthy path, routes broker outcomes to them, and
 * releases each one when it finishes.
 *
 * The healthy path (publish, ack) never passes through here: at thousands of messages per second an
 * actor per message costs more than the publish itself. The supervisor only sees what went wrong.
 *
 * Live message actors are capped (`maxLiveMessages`): each spawn and stop copies the parent's child
 * table, so the cost per message grows with the number of live children. Tickets over the cap wait in a
 * backlog that the runtime holds (an O(1) queue) and feeds back one at a time as actors finish.
 */
import { assign, enqueueActions, setup } from 'xstate';
import { type BreakerEvent, type BreakerInput, breakerMachine } from './breaker.machine.js';
import { type ConnectionInput, connectionMachine, connectionPhaseOf } from './connection.machine.js';
import type { Failure } from './failure.js';
import {
  type MessageOutput,
  type MessageResume,
  type MessageSettings,
  messageMachine,
} from './message.machine.js';
import type { BreakerPhase, ConnectionPhase } from './phases.js';
import { drawRandom, type RandomState, seedRandom } from './random.js';

/** A message that left the healthy path and needs a message actor. */
export interface RetryTicket {
  readonly messageId: string;
  readonly failure: Failure;
  /** Attempts counted so far, the failed one included. */
  readonly attempts: number;
  /** For a message recovered from the journal: where its actor picks up. */
  readonly resume?: MessageResume;
}

export type { BreakerPhase } from './phases.js';

/** Input of the supervisor. */
export interface SupervisorInput {
  /** Seeds every jitter source below; journal it to replay the same delays. */
  readonly seed: number;
  readonly connection?: ConnectionInput['settings'];
  readonly breaker?: BreakerInput['settings'];
  readonly message?: Partial<MessageSettings>;
  /** Cap on live message actors; more retrying messages wait in the backlog. */
  readonly maxLiveMessages?: number;
}

/** Context of the supervisor. */
export interface SupervisorContext {
  readonly connectionInput: ConnectionInput;
  readonly breakerInput: BreakerInput;
  readonly messageSettings: Partial<MessageSettings>;
  readonly maxLiveMessages: number;
  readonly random: RandomState;
  readonly connectionPhase: ConnectionPhase;
  readonly breakerPhase: BreakerPhase;
  /** Connected, not blocked, breaker closed: retrying messages may publish. */
  readonly gateOpen: boolean;
  /**
   * Message ids whose actor is live. Decisions read this rather than the actor's children, so a pure
   * fold of the supervisor's events decides as the live actor did.
   */
  readonly live: Readonly<Record<string, true>>;
  readonly liveMessages: number;
  readonly backlog: number;
  readonly confirmedAfterRetry: number;
  readonly deadLettered: number;
}

/** Events the supervisor accepts from the runtime. */
export type SupervisorEvent =
  | { readonly type: 'supervisor.start' }
  | { readonly type: 'supervisor.close' }
  | { readonly type: 'message.retry'; readonly ticket: RetryTicket; readonly fromBacklog?: boolean }
  | { readonly type: 'message.ack'; readonly messageId: string }
  | { readonly type: 'message.failed'; readonly messageId: string; readonly failure: Failure }
  | BreakerEvent;

/** The message actor id's prefix; {@link messageActorId} and {@link isMessageActorId} are its only readers. */
const MESSAGE_ACTOR_PREFIX = 'msg:';

/** Child id of a message actor; message ids are unique, so actor ids are too. */
export const messageActorId = (messageId: string): string => `${MESSAGE_ACTOR_PREFIX}${messageId}`;

/** Whether an actor id is a message actor's. */
export const isMessageActorId = (id: string): boolean => id.startsWith(MESSAGE_ACTOR_PREFIX);

/**
 * The output of a message actor's `xstate.done.actor.*` event; `undefined` for any other event. The
 * supervisor's event type lists only what the runtime sends, so the done event is read by its fields.
 * The runtime's `reportOutcome` reads it the same way.
 */
export function messageOutputOf(event: { readonly type: string }): MessageOutput | undefined {
  if (!event.type.startsWith('xstate.done.actor.') || !('output' in event)) return undefined;
  const output = event.output as Partial<MessageOutput> | undefined;
  return typeof output?.messageId === 'string' ? (output as MessageOutput) : undefined;
}

/** The snapshot carried by an `xstate.snapshot.<child>` event. */
const childSnapshot = (event: unknown): { readonly value?: unknown } =>
  (event as { snapshot: { value?: unknown } }).snapshot;

/**
 * The phase a connection snapshot reports. A child without a state value (not a state machine, such as a
 * test's stand-in) reports nothing new.
 */
function reportedConnectionPhase(context: SupervisorContext, event: unknown): ConnectionPhase {
  const snapshot = childSnapshot(event);
  return snapshot.value === undefined
    ? context.connectionPhase
    : connectionPhaseOf(snapshot as Parameters<typeof connectionPhaseOf>[0]);
}

/** The phase a breaker snapshot reports, as {@link reportedConnectionPhase} does for the connection. */
function reportedBreakerPhase(context: SupervisorContext, event: unknown): BreakerPhase {
  return (childSnapshot(event).value as BreakerPhase | undefined) ?? context.breakerPhase;
}

/** The supervisor machine. */
export const supervisorMachine = setup({
  types: {
    input: {} as SupervisorInput,
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    children: {} as { connection: 'connection'; breaker: 'breaker' },
  },
  actors: {
    connection: connectionMachine,
    breaker: breakerMachine,
    message: messageMachine,
  },
  actions: {
    trackConnection: assign(({ context, event }) => {
      const phase = reportedConnectionPhase(context, event);
      return { connectionPhase: phase, gateOpen: phase === 'connected' && context.breakerPhase === 'closed' };
    }),
    trackBreaker: assign(({ context, event }) => {
      const phase = reportedBreakerPhase(context, event);
      return { breakerPhase: phase, gateOpen: context.connectionPhase === 'connected' && phase === 'closed' };
    }),
    /** Tells every live message actor whether it may publish now; bounded by `maxLiveMessages`. */
    broadcastGate: enqueueActions(({ context, enqueue }) => {
      for (const messageId of Object.keys(context.live)) {
        enqueue.sendTo(messageActorId(messageId), { type: 'gate.changed', open: context.gateOpen });
      }
    }),
    /**
     * Tells every live message actor when the broker starts or stops blocking the connection, before
     * the new phase is tracked: a blocked broker reads nothing, so actors awaiting a confirm hold their
     * confirm timeout meanwhile. The gate cannot say it: it also closes for an open breaker, and then
     * confirms still arrive and may well be late.
     */
    broadcastBlocked: enqueueActions(({ context, event, enqueue }) => {
      const blocked = reportedConnectionPhase(context, event) === 'blocked';
      if (blocked === (context.connectionPhase === 'blocked')) return;
      const signal = { type: blocked ? 'connection.blocked' : 'connection.unblocked' } as const;
      for (const messageId of Object.keys(context.live)) enqueue.sendTo(messageActorId(messageId), signal);
    }),
    /**
     * A half-open breaker lets one message through as its probe. With retrying messages and no new
     * traffic the probe must come from a message actor, or the breaker would wait forever: once the
     * breaker is half-open and the connection up, the first live actor is told its gate is open and
     * the breaker that its probe is taken. (With no live actor the runtime sends a buffered message.)
     */
    offerProbe: enqueueActions(({ context, enqueue, self }) => {
      if (context.breakerPhase !== 'halfOpen' || context.connectionPhase !== 'connected') return;
      const probe = Object.keys(context.live)[0];
      if (probe === undefined) return;
      // The breaker's own flag says whether a probe is already out; it lives in the child's snapshot,
      // which a pure fold of this machine does not have: then no probe is offered.
      const breaker = self.getSnapshot().children?.breaker?.getSnapshot();
      if (breaker?.context?.probeTaken !== false) return;
      enqueue.sendTo(messageActorId(probe), { type: 'gate.changed', open: true });
      enqueue.sendTo('breaker', { type: 'breaker.probe' });
    }),
    markClosed: assign({ connectionPhase: 'closed' as const, gateOpen: false }),
    admitRetry: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'message.retry') return;
      const { ticket } = event;
      const id = messageActorId(ticket.messageId);
      if (event.fromBacklog === true) enqueue.assign({ backlog: ({ context }) => context.backlog - 1 });
      // A message already retrying is never spawned twice; its actor owns it.
      if (context.live[ticket.messageId] === true) return;
      if (context.liveMessages >= context.maxLiveMessages) {
        enqueue.assign({ backlog: ({ context }) => context.backlog + 1 });
        enqueue('holdInBacklog');
        return;
      }
      const draw = drawRandom(context.random);
      enqueue.assign({
        random: draw.next,
        live: ({ context }) => ({ ...context.live, [ticket.messageId]: true as const }),
        liveMessages: ({ context }) => context.liveMessages + 1,
      });
      enqueue.spawnChild('message', {
        id,
        input: {
          messageId: ticket.messageId,
          failure: ticket.failure,
          attempts: ticket.attempts,
          gateOpen: context.gateOpen,
          blocked: context.connectionPhase === 'blocked',
          seed: Math.floor(draw.value * 0x100000000),
          settings: context.messageSettings,
          ...(ticket.resume === undefined ? {} : { resume: ticket.resume }),
        },
      });
    }),
    routeToMessage: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'message.ack' && event.type !== 'message.failed') return;
      // Late or unknown outcomes (the actor already finished, or the message never left the healthy
      // path) are dropped here rather than sent to a missing child, which would fail the supervisor.
      if (context.live[event.messageId] !== true) return;
      const child = messageActorId(event.messageId);
      if (event.type === 'message.ack') {
        enqueue.sendTo(child, { type: 'confirm.ack' });
        return;
      }
      enqueue.sendTo(child, { type: 'confirm.failed', failure: event.failure });
      // A failure may close the actor's gate (a lost connection does); if the supervisor's gate is
      // already open again, say so at once rather than at the next connection or breaker change.
      if (context.gateOpen) enqueue.sendTo(child, { type: 'gate.changed', open: true });
    }),
    /** Stops every message actor; their messages stay journaled and are recovered on the next start. */
    stopMessageActors: enqueueActions(({ context, enqueue }) => {
      for (const messageId of Object.keys(context.live)) enqueue.stopChild(messageActorId(messageId));
      enqueue.assign({ live: {}, liveMessages: 0 });
    }),
    releaseMessage: enqueueActions(({ context, event, enqueue }) => {
      const output = messageOutputOf(event);
      if (output === undefined) return;
      enqueue.stopChild(messageActorId(output.messageId));
      const live = { ...context.live };
      delete live[output.messageId];
      enqueue.assign({
        live,
        liveMessages: context.liveMessages - 1,
        confirmedAfterRetry: context.confirmedAfterRetry + (output.outcome === 'confirmed' ? 1 : 0),
        deadLettered: context.deadLettered + (output.outcome === 'dead-lettered' ? 1 : 0),
      });
      enqueue('reportOutcome');
      if (context.backlog > 0) enqueue('releaseFromBacklog');
    }),
    forwardToBreaker: enqueueActions(({ event, enqueue }) => {
      if (event.type.startsWith('breaker.')) enqueue.sendTo('breaker', event);
    }),
    openConnection: enqueueActions(({ enqueue }) =>
      enqueue.sendTo('connection', { type: 'connection.open' }),
    ),
    closeConnection: enqueueActions(({ enqueue }) =>
      enqueue.sendTo('connection', { type: 'connection.close' }),
    ),
    /** Runtime hook, called with the `message.retry` event: keep its ticket until a slot frees up. */
    holdInBacklog: () => undefined,
    /** Runtime hook: send the oldest held ticket back as `message.retry` with `fromBacklog: true`. */
    releaseFromBacklog: () => undefined,
    /** Runtime hook, called with the message actor's done event: journal the outcome, settle the receipt. */
    reportOutcome: () => undefined,
  },
  guards: {
    connectionChangesGate: ({ context, event }) =>
      (reportedConnectionPhase(context, event) === 'connected' && context.breakerPhase === 'closed') !==
      context.gateOpen,
    breakerChangesGate: ({ context, event }) =>
      (context.connectionPhase === 'connected' && reportedBreakerPhase(context, event) === 'closed') !==
      context.gateOpen,
    /** A live message actor finished (a stray completion for an actor already released changes nothing). */
    isLiveMessageActor: ({ context, event }) => {
      const output = messageOutputOf(event);
      return (
        output !== undefined &&
        event.type === `xstate.done.actor.${messageActorId(output.messageId)}` &&
        context.live[output.messageId] === true
      );
    },
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => {
    const random = seedRandom(input.seed);
    const connectionSeed = drawRandom(random);
    return {
      connectionInput: {
        seed: Math.floor(connectionSeed.value * 0x100000000),
        ...(input.connection === undefined ? {} : { settings: input.connection }),
      },
      breakerInput: input.breaker === undefined ? {} : { settings: input.breaker },
      messageSettings: input.message ?? {},
      maxLiveMessages: input.maxLiveMessages ?? 256,
      random: connectionSeed.next,
      connectionPhase: 'idle',
      breakerPhase: 'closed',
      gateOpen: false,
      live: {},
      liveMessages: 0,
      backlog: 0,
      confirmedAfterRetry: 0,
      deadLettered: 0,
    };
  },
  initial: 'idle',
  states: {
    idle: {
      on: {
        'supervisor.start': 'running',
        'supervisor.close': 'closed',
        // Recovered messages may be handed over before start; their actors wait for the gate.
        'message.retry': { actions: 'admitRetry' },
      },
    },
    running: {
      invoke: [
        {
          id: 'connection',
          src: 'connection',
          input: ({ context }) => context.connectionInput,
          onSnapshot: [
            // Message actors hear about the gate only when it changes: connection and breaker
            // snapshots are frequent, and each broadcast costs one event per live actor.
            {
              guard: 'connectionChangesGate',
              actions: ['broadcastBlocked', 'trackConnection', 'broadcastGate'],
            },
            { actions: ['broadcastBlocked', 'trackConnection', 'offerProbe'] },
          ],
          onDone: { target: '#supervisor.closed', actions: 'markClosed' },
        },
        {
          id: 'breaker',
          src: 'breaker',
          input: ({ context }) => context.breakerInput,
          onSnapshot: [
            { guard: 'breakerChangesGate', actions: ['trackBreaker', 'broadcastGate'] },
            { actions: ['trackBreaker', 'offerProbe'] },
          ],
        },
      ],
      initial: 'opening',
      exit: 'stopMessageActors',
      on: {
        'message.retry': { actions: 'admitRetry' },
        'message.ack': { actions: 'routeToMessage' },
        'message.failed': { actions: 'routeToMessage' },
        'breaker.success': { actions: 'forwardToBreaker' },
        'breaker.failure': { actions: 'forwardToBreaker' },
        'breaker.probe': { actions: 'forwardToBreaker' },
        'breaker.reset': { actions: 'forwardToBreaker' },
        'xstate.done.actor.*': { guard: 'isLiveMessageActor', actions: 'releaseMessage' },
      },
      states: {
        opening: { always: { target: 'active', actions: 'openConnection' } },
        active: {
          on: { 'supervisor.close': { target: 'closing', actions: 'closeConnection' } },
        },
        closing: {},
      },
    },
    closed: { type: 'final' },
  },
});
