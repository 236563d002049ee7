/**
 * Ready-made models of ferry's four machines: for each, an input that keeps the graph small, a catalogue
 * of every event the machine reacts to (internal ones included, with representative payloads), and a
 * `serializeState` that keeps what guards read. Hand one to {@link modelPaths} and replay the paths
 * with {@link replayPath} to drive your own service through every connection, breaker and message state.
 *
 * @example
 * ```ts
 * import { connectionMachine, CoverageTracker, ferryModels, modelPaths, replayPath } from 'ferry/testing';
 * const model = ferryModels.connection;
 * for (const path of modelPaths(connectionMachine, model)) {
 *   it(path.description, () => replayPath(connectionMachine, path, { input: model.input }));
 * }
 * ```
 */
import { fromCallback, type SnapshotFrom } from 'xstate';
import {
  type BreakerInput,
  breakerMachine,
  type ConnectionInput,
  connectionMachine,
  type Failure,
  type MessageInput,
  messageActorId,
  messageMachine,
  type SupervisorInput,
  type supervisorMachine,
} from '../../machines/index.js';
import { afterEvent, doneEvent, errorEvent, type ModelEvent, timerEvents } from './model-events.js';
import { serializeWith } from './model-paths.js';

/** Failures with the shapes the runtime reports, for use as event payloads. */
export const sampleFailures = {
  refused: { code: 'ECONNREFUSED', message: 'connection refused', permanent: false },
  reset: { code: 'ECONNRESET', message: 'connection reset by peer', permanent: false },
  accessRefused: { code: 'ACCESS_REFUSED', message: 'access refused', permanent: true },
  nacked: { code: 'NACKED', message: 'nacked', permanent: false },
  connectionLost: { code: 'CONNECTION_LOST', message: 'connection lost', permanent: false },
  writeRefused: { code: 'WRITE_REFUSED', message: 'no write permission', permanent: true },
} as const satisfies Record<string, Failure>;

const { refused, reset, accessRefused, nacked, connectionLost, writeRefused } = sampleFailures;

/** A model of one machine: what {@link modelPaths} needs besides the machine. */
export interface FerryModel<TMachine extends Parameters<typeof timerEvents>[0], TInput> {
  readonly input: TInput;
  readonly events: (snapshot: SnapshotFrom<TMachine>) => readonly ModelEvent<TMachine>[];
  readonly serializeState: (snapshot: SnapshotFrom<TMachine>) => string;
}

type Connection = typeof connectionMachine;
type Breaker = typeof breakerMachine;
type Message = typeof messageMachine;
type Supervisor = typeof supervisorMachine;

const connectionEvents: ModelEvent<Connection>[] = [
  { type: 'connection.open' },
  { type: 'connection.close' },
  { type: 'connection.lost', failure: reset },
  { type: 'connection.lost', failure: accessRefused },
  { type: 'connection.blocked', reason: 'low on memory' },
  { type: 'connection.unblocked' },
  doneEvent('connect', { endpoint: 'amqp://127.0.0.1:5672' }),
  errorEvent('connect', refused),
  errorEvent('connect', accessRefused),
  doneEvent('healthCheck'),
  errorEvent('healthCheck', { code: 'NOT_FOUND', message: 'no exchange', permanent: false }),
  errorEvent('healthCheck', accessRefused),
  doneEvent('disconnect'),
  errorEvent('disconnect', reset),
  ...timerEvents(connectionMachine),
];

const breakerEvents: ModelEvent<Breaker>[] = [
  { type: 'breaker.success', at: 0 },
  { type: 'breaker.failure', at: 0, failure: nacked },
  { type: 'breaker.probe' },
  { type: 'breaker.reset' },
  ...timerEvents(breakerMachine),
];

const messageEvents: ModelEvent<Message>[] = [
  { type: 'gate.changed', open: true },
  { type: 'gate.changed', open: false },
  { type: 'connection.blocked' },
  { type: 'connection.unblocked' },
  { type: 'confirm.ack' },
  { type: 'confirm.failed', failure: nacked },
  { type: 'confirm.failed', failure: connectionLost },
  { type: 'confirm.failed', failure: writeRefused },
  doneEvent('publish'),
  errorEvent('publish', connectionLost),
  errorEvent('publish', nacked),
  doneEvent('deadLetter'),
  errorEvent('deadLetter', nacked),
  ...timerEvents(messageMachine),
];

const childSnapshot = (
  child: 'connection' | 'breaker',
  value: unknown,
  context: object,
): ModelEvent<Supervisor> => {
  // The fields of a child's snapshot the supervisor reads (value and context), on an active snapshot.
  const snapshot = { status: 'active' as const, output: undefined, error: undefined, value, context };
  return { type: `xstate.snapshot.${child}`, snapshot };
};
const connectionSettings = { maxReconnectAttempts: 10 };
const messageDone = (id: string) =>
  doneEvent(messageActorId(id), { messageId: id, outcome: 'confirmed', attempts: 1, lastFailure: nacked });

const supervisorEvents: ModelEvent<Supervisor>[] = [
  { type: 'supervisor.start' },
  { type: 'supervisor.close' },
  { type: 'message.retry', ticket: { messageId: 'a', failure: nacked, attempts: 1 } },
  { type: 'message.retry', ticket: { messageId: 'b', failure: nacked, attempts: 1 } },
  { type: 'message.ack', messageId: 'a' },
  { type: 'message.failed', messageId: 'a', failure: nacked },
  { type: 'breaker.success', at: 0 },
  { type: 'breaker.failure', at: 0, failure: nacked },
  { type: 'breaker.probe' },
  { type: 'breaker.reset' },
  childSnapshot('connection', { connected: 'flowing' }, { attempts: 0, settings: connectionSettings }),
  childSnapshot('connection', { connected: 'blocked' }, { attempts: 0, settings: connectionSettings }),
  childSnapshot('connection', 'reconnecting', { attempts: 1, settings: connectionSettings }),
  childSnapshot('breaker', 'closed', { probeTaken: false }),
  childSnapshot('breaker', 'open', { probeTaken: false }),
  childSnapshot('breaker', 'halfOpen', { probeTaken: false }),
  doneEvent('connection'),
];

/** Models of ferry's machines; see the module documentation. */
export const ferryModels = {
  /** The connection with a budget of 3 attempts. */
  connection: {
    input: { seed: 1, settings: { maxReconnectAttempts: 3 } },
    events: () => connectionEvents,
    serializeState: serializeWith<SnapshotFrom<Connection>>(({ context }) =>
      Math.min(context.attempts, context.settings.maxReconnectAttempts),
    ),
  } satisfies FerryModel<Connection, ConnectionInput>,
  /** The breaker with a threshold of 2 consecutive failures. */
  breaker: {
    input: { settings: { failureThreshold: 2, cooldownMs: 100 } },
    events: () => breakerEvents,
    serializeState: serializeWith<SnapshotFrom<Breaker>>(({ context }) => [
      Math.min(context.consecutiveFailures, context.settings.failureThreshold),
      context.probeTaken,
      // Window totals past a few outcomes change no decision at small thresholds.
      context.window
        .reduce((sum, bucket) => [sum[0]! + bucket.successes, sum[1]! + bucket.failures], [0, 0])
        .map((total) => Math.min(total, 3)),
    ]),
  } satisfies FerryModel<Breaker, BreakerInput>,
  /** A message fresh off the healthy path after a nack, with 3 attempts in all. */
  message: {
    input: { messageId: 'm', failure: nacked, attempts: 1, gateOpen: true, seed: 1 },
    // A finished actor takes no events (the root-level `gate.changed` handler would otherwise match).
    events: (snapshot) => (snapshot.status === 'done' ? [] : messageEvents),
    serializeState: serializeWith<SnapshotFrom<Message>>(({ context }) => [
      Math.min(context.attempts, context.settings.maxAttempts),
      context.gateOpen,
      context.blocked,
      context.lastFailure.code,
      context.resumeTimer?.state ?? null,
      context.deadLetterFailures > 0,
    ]),
  } satisfies FerryModel<Message, MessageInput>,
  /**
   * The supervisor's own transitions, with one live message actor at most. Replay it with
   * {@link supervisorStandIns}: its children's snapshots and completions are the model's events.
   */
  supervisor: {
    input: { seed: 1, maxLiveMessages: 1 },
    events: (snapshot) => {
      if (snapshot.status === 'done') return [];
      return snapshot.context.liveMessages > 0
        ? [...supervisorEvents, messageDone('a'), messageDone('b')]
        : supervisorEvents;
    },
    serializeState: serializeWith<SnapshotFrom<Supervisor>>(({ context }) => [
      context.connectionPhase,
      context.breakerPhase,
      context.gateOpen,
      Math.min(context.liveMessages, 2),
      Math.min(context.backlog, 1),
    ]),
  } satisfies FerryModel<Supervisor, SupervisorInput>,
};

/** Children for replaying the supervisor's model: they never speak for themselves. */
export const supervisorStandIns = {
  connection: fromCallback(() => undefined),
  breaker: fromCallback(() => undefined),
};

/** The health-check timer of a connected connection, for building event sequences by hand. */
export const healthCheckDue = afterEvent('healthCheckInterval', 'connection.connected.flowing');
