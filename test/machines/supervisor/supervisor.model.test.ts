/**
 * Model-based test of the supervisor's own transitions: its children (connection, breaker, message
 * actors) are faked, and their snapshots and completions are the model's events. Paths are generated
 * from the machine itself, replayed against a live actor, and every state and transition must be taken.
 */
import { describe, it } from 'vitest';
import { fromCallback, type SnapshotFrom } from 'xstate';
import { type Failure, type SupervisorInput, supervisorMachine } from '../../../machines/index.js';
import {
  CoverageTracker,
  doneEvent,
  type ModelEvent,
  modelPaths,
  replayPath,
  serializeWith,
} from '../../../src/testing/index.js';

type SupervisorMachine = typeof supervisorMachine;

const nacked: Failure = { code: 'NACKED', message: 'nacked', permanent: false };
const settings = { maxReconnectAttempts: 10 };

const connectionSnapshot = (value: unknown, attempts = 0) =>
  ({ type: 'xstate.snapshot.connection', snapshot: { value, context: { attempts, settings } } }) as never;
const breakerSnapshot = (value: string) =>
  ({ type: 'xstate.snapshot.breaker', snapshot: { value, context: { probeTaken: false } } }) as never;

const always: ModelEvent<SupervisorMachine>[] = [
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
  connectionSnapshot({ connected: 'flowing' }),
  connectionSnapshot({ connected: 'blocked' }),
  connectionSnapshot('reconnecting', 1),
  breakerSnapshot('closed'),
  breakerSnapshot('open'),
  breakerSnapshot('halfOpen'),
  doneEvent('connection'),
];

const done = (id: string) =>
  doneEvent(`msg:${id}`, { messageId: id, outcome: 'confirmed', attempts: 1, lastFailure: nacked });

/** A message actor's completion is only an event while one is live. */
const events = (snapshot: SnapshotFrom<SupervisorMachine>): ModelEvent<SupervisorMachine>[] => {
  if (snapshot.status === 'done') return [];
  return snapshot.context.liveMessages > 0 ? [...always, done('a'), done('b')] : always;
};

const serializeState = serializeWith<SnapshotFrom<SupervisorMachine>>(({ context }) => [
  context.connectionPhase,
  context.breakerPhase,
  context.gateOpen,
  Math.min(context.liveMessages, 2),
  Math.min(context.backlog, 1),
]);

const input: SupervisorInput = { seed: 1, maxLiveMessages: 1 };
/** Children that never speak for themselves: their snapshots and completions are the model's events. */
const actors = { connection: fromCallback(() => undefined), breaker: fromCallback(() => undefined) };
const tracker = new CoverageTracker(supervisorMachine);

describe('supervisor model', () => {
  const paths = modelPaths(supervisorMachine, {
    input,
    events,
    serializeState,
  });
  it.each(paths.map((path) => [path.description, path] as const))('%s', async (_, path) => {
    await replayPath(supervisorMachine, path, { input, actors, inspect: tracker.inspect });
  });
});

describe('supervisor model coverage', () => {
  it('took every state and every transition', () => {
    console.info(tracker.summary());
    tracker.assertComplete();
  });
});
