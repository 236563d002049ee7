/**
 * Runs the supervisor on a simulated clock with its real child machines, whose effects are fakes: the
 * connection connects at once, the watch hands its `sendBack` to the test, publishes and dead-letter
 * hand-offs wait for the test. The runtime's backlog is a plain queue, as the supervisor's hooks expect.
 */
import { type Actor, type AnyActorRef, createActor, fromCallback, fromPromise, SimulatedClock } from 'xstate';
import { maxBackoffDelay } from '../../../machines/backoff.js';
import {
  type ConnectedEndpoint,
  type ConnectionContext,
  type ConnectionEvent,
  connectionMachine,
} from '../../../machines/connection.machine.js';
import {
  type MessageEffectInput,
  type MessageOutput,
  messageMachine,
} from '../../../machines/message.machine.js';
import {
  messageActorId,
  type RetryTicket,
  type SupervisorInput,
  supervisorMachine,
} from '../../../machines/supervisor.machine.js';
import { type ControlledEffect, controlledEffect } from './controlled-effect.js';
import { nacked } from './message-harness.js';
import { nextTurn, until } from './settle.js';

type SupervisorActor = Actor<typeof supervisorMachine>;

/** A running supervisor, its clock, its fakes and what its runtime hooks saw. */
export interface SupervisorHarness {
  readonly clock: SimulatedClock;
  readonly actor: SupervisorActor;
  /** One entry per connect attempt. */
  readonly connects: { readonly attempt: number }[];
  /** The `sendBack` of every watch the connection started, newest last. */
  readonly watchers: ((event: ConnectionEvent) => void)[];
  readonly publish: ControlledEffect<void, MessageEffectInput>;
  readonly deadLetter: ControlledEffect<void, MessageEffectInput>;
  /** The runtime's backlog: tickets held until a slot frees up, oldest first. */
  readonly backlog: RetryTicket[];
  /** How many tickets `holdInBacklog` was handed. */
  readonly held: { count: number };
  /** Outputs handed to `reportOutcome`, in order. */
  readonly outcomes: MessageOutput[];
  /** Errors the supervisor reported to its observers. */
  readonly errors: unknown[];
}

/** The endpoint the fake connect reports. */
export const FAKE_ENDPOINT = 'amqp://127.0.0.1:5672/';

/** Creates and starts the supervisor actor; it stays `idle` until sent `supervisor.start`. */
export function createSupervisor(input: Partial<SupervisorInput> = {}): SupervisorHarness {
  const clock = new SimulatedClock();
  const connects: { attempt: number }[] = [];
  const watchers: ((event: ConnectionEvent) => void)[] = [];
  const publish = controlledEffect<void, MessageEffectInput>();
  const deadLetter = controlledEffect<void, MessageEffectInput>();
  const backlog: RetryTicket[] = [];
  const held = { count: 0 };
  const outcomes: MessageOutput[] = [];
  const errors: unknown[] = [];

  const connection = connectionMachine.provide({
    actors: {
      connect: fromPromise<ConnectedEndpoint, { readonly attempt: number }>(async ({ input }) => {
        connects.push(input);
        return { endpoint: FAKE_ENDPOINT };
      }),
      watch: fromCallback<ConnectionEvent>(({ sendBack }) => {
        watchers.push(sendBack);
      }),
      healthCheck: fromPromise<void>(async () => undefined),
      disconnect: fromPromise<void>(async () => undefined),
    },
  });
  const message = messageMachine.provide({
    actors: { publish: publish.logic, deadLetter: deadLetter.logic },
  });
  const machine = supervisorMachine.provide({
    actors: { connection, message },
    actions: {
      holdInBacklog: ({ event }) => {
        if (event.type !== 'message.retry') throw new Error(`holdInBacklog called with ${event.type}`);
        held.count++;
        backlog.push(event.ticket);
      },
      releaseFromBacklog: ({ self }) => {
        const ticket = backlog.shift();
        if (ticket !== undefined) self.send({ type: 'message.retry', ticket, fromBacklog: true });
      },
      reportOutcome: ({ event }) => {
        outcomes.push((event as unknown as { output: MessageOutput }).output);
      },
    },
  });
  const actor = createActor(machine, { clock, input: { seed: 11, ...input } });
  actor.subscribe({ error: (error) => errors.push(error) });
  actor.start();
  return { clock, actor, connects, watchers, publish, deadLetter, backlog, held, outcomes, errors };
}

/** A supervisor that was started and whose connection is up. */
export async function connectedSupervisor(input: Partial<SupervisorInput> = {}): Promise<SupervisorHarness> {
  const harness = createSupervisor(input);
  harness.actor.send({ type: 'supervisor.start' });
  await until(harness.actor, (snapshot) => snapshot.context.connectionPhase === 'connected');
  return harness;
}

/** A ticket for a message that failed once, transiently. */
export function ticket(messageId: string, failure = nacked, attempts = 1): RetryTicket {
  return { messageId, failure, attempts };
}

/** The live message actors, by child id. */
export function messageChildren(harness: SupervisorHarness): Record<string, AnyActorRef> {
  return Object.fromEntries(
    Object.entries(harness.actor.getSnapshot().children).filter(
      (entry): entry is [string, AnyActorRef] => entry[0].startsWith('msg:') && entry[1] !== undefined,
    ),
  );
}

/** The live message actor of `messageId`; fails the test when there is none. */
export function messageChild(harness: SupervisorHarness, messageId: string): Actor<typeof messageMachine> {
  const child = harness.actor.getSnapshot().children[messageActorId(messageId)];
  if (child === undefined) throw new Error(`no live actor for ${messageId}`);
  return child as unknown as Actor<typeof messageMachine>;
}

/** The longest any timer of the connection or a live message can take to fire. */
function longestTimer(harness: SupervisorHarness): number {
  const { children } = harness.actor.getSnapshot();
  const connection = children.connection?.getSnapshot().context as ConnectionContext | undefined;
  const delays = [connection === undefined ? 0 : maxBackoffDelay(connection.settings.reconnect)];
  for (const child of Object.values(messageChildren(harness))) {
    const { settings } = (child as Actor<typeof messageMachine>).getSnapshot().context;
    delays.push(maxBackoffDelay(settings.retry), settings.parkedRetryDelayMs);
  }
  return Math.max(...delays);
}

/**
 * Heals the world and drives it until no message is live or held: the connection is unblocked, the
 * breaker reset, every publish and dead-letter hand-off succeeds, every confirm is acked, and time
 * passes for whatever waits on a timer. Fails the test if that takes more than `rounds` rounds.
 */
export async function settleEverything(harness: SupervisorHarness, rounds = 200): Promise<void> {
  const { actor, clock } = harness;
  for (let round = 0; round < rounds; round++) {
    if (Object.keys(messageChildren(harness)).length === 0 && harness.backlog.length === 0) return;
    if (actor.getSnapshot().context.connectionPhase === 'blocked') {
      harness.watchers.at(-1)?.({ type: 'connection.unblocked' });
    }
    if (actor.getSnapshot().context.breakerPhase !== 'closed') actor.send({ type: 'breaker.reset' });
    for (const call of harness.publish.pending()) call.resolve();
    for (const call of harness.deadLetter.pending()) call.resolve();
    await nextTurn();
    for (const [id, child] of Object.entries(messageChildren(harness))) {
      if (child.getSnapshot().matches('awaitingConfirm')) {
        actor.send({ type: 'message.ack', messageId: id.slice('msg:'.length) });
      }
    }
    clock.increment(longestTimer(harness));
    await nextTurn();
  }
  throw new Error(
    `still ${Object.keys(messageChildren(harness)).length} live and ${harness.backlog.length} held`,
  );
}
