/**
 * Model-based test of the retryable-message machine: paths generated from the machine itself (fresh
 * failures, waiting for the gate, and messages resumed from the journal), each replayed against a live
 * actor on a simulated clock, then a demand that every state and transition was taken.
 */
import { describe, it } from 'vitest';
import type { SnapshotFrom } from 'xstate';
import { type Failure, type MessageInput, messageMachine } from '../../../machines/index.js';
import {
  CoverageTracker,
  doneEvent,
  errorEvent,
  type ModelEvent,
  modelPaths,
  replayPath,
  serializeWith,
  timerEvents,
} from '../../../src/testing/index.js';

type MessageMachine = typeof messageMachine;

const nacked: Failure = { code: 'NACKED', message: 'nacked', permanent: false };
const connectionLost: Failure = { code: 'CONNECTION_LOST', message: 'connection lost', permanent: false };
const writeRefused: Failure = { code: 'WRITE_REFUSED', message: 'no write permission', permanent: true };

const events: ModelEvent<MessageMachine>[] = [
  { type: 'gate.changed', open: true },
  { type: 'gate.changed', open: false },
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

/** What guards read: attempts up to the budget, the gate, the last failure's kind, a pending resume. */
const serializeState = serializeWith<SnapshotFrom<MessageMachine>>(({ context }) => [
  Math.min(context.attempts, context.settings.maxAttempts),
  context.gateOpen,
  context.lastFailure.code,
  context.resumeTimer?.state ?? null,
  context.deadLetterFailures > 0,
]);

const base: MessageInput = { messageId: 'm', failure: nacked, attempts: 1, gateOpen: true, seed: 1 };
const resume = (state: 'retryWait' | 'parked') => ({
  random: 7,
  deadLetterFailures: state === 'parked' ? 1 : 0,
  timer: { state, remainingMs: 250 },
});

const configurations: { name: string; input: MessageInput }[] = [
  { name: 'fresh off the healthy path', input: base },
  { name: 'permanent failure', input: { ...base, failure: writeRefused } },
  { name: 'gate closed', input: { ...base, failure: connectionLost, gateOpen: false } },
  { name: 'resumed in retryWait', input: { ...base, resume: resume('retryWait') } },
  { name: 'resumed parked', input: { ...base, attempts: 3, resume: resume('parked') } },
];

const tracker = new CoverageTracker(messageMachine);

for (const { name, input } of configurations) {
  describe(`message model, ${name}`, () => {
    // A finished actor takes no events (the root-level `gate.changed` handler would otherwise match).
    const paths = modelPaths(messageMachine, {
      input,
      events: (snapshot) => (snapshot.status === 'done' ? [] : events),
      serializeState,
    });
    it.each(paths.map((path) => [path.description, path] as const))('%s', async (_, path) => {
      await replayPath(messageMachine, path, { input, inspect: tracker.inspect });
    });
  });
}

describe('message model coverage', () => {
  it('took every state and every transition', () => {
    console.info(tracker.summary());
    tracker.assertComplete();
  });
});
