/**
 * The replay property: for random sequences of broker outcomes, gate changes and elapsed time, the
 * journal a live message actor writes (through the producer's own event builders), folded, equals the
 * live actor's state; and an actor resumed from that fold (what recovery does after a crash) is the
 * live actor again, its timers re-armed to the journaled deadlines, with in-flight work (a publish or
 * dead-letter hand-off whose outcome is unknown) started over.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Actor, createActor, fromPromise, SimulatedClock, type StateValue } from 'xstate';
import { JITTER_STRATEGIES } from '../../machines/backoff.js';
import type { Failure } from '../../machines/failure.js';
import {
  type MessageContext,
  type MessageEffectInput,
  type MessageInput,
  messageMachine,
} from '../../machines/message.machine.js';
import { foldMessage } from '../../src/journal/fold.js';
import type { JournalEvent } from '../../src/journal/journal.js';
import { failedEvent, parkedEvent, retryScheduledEvent } from '../../src/journal/message-events.js';
import { resumeTicket } from '../../src/producer/recovery.js';
import { outbound } from './fixtures.js';

const FAILURES: readonly Failure[] = [
  { code: 'NACKED', message: 'nacked', permanent: false },
  { code: 'RETURNED', message: 'unroutable', permanent: false },
  { code: 'CONFIRM_TIMEOUT', message: 'no confirm', permanent: false },
  { code: 'CONNECTION_LOST', message: 'connection lost', permanent: false },
  { code: 'PRECONDITION_FAILED', message: 'refused for good', permanent: true },
];

type Step =
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'publishDone' }
  | { readonly kind: 'publishFailed'; readonly failure: Failure }
  | { readonly kind: 'ack' }
  | { readonly kind: 'confirmFailed'; readonly failure: Failure }
  | { readonly kind: 'gate'; readonly open: boolean }
  | { readonly kind: 'deadLetterDone' }
  | { readonly kind: 'deadLetterFailed' };

const failure = fc.constantFrom(...FAILURES);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 12_000 }) }),
    weight: 4,
  },
  { arbitrary: fc.constant({ kind: 'publishDone' as const }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('publishFailed' as const), failure }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'ack' as const }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('confirmFailed' as const), failure }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('gate' as const), open: fc.boolean() }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'deadLetterDone' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'deadLetterFailed' as const }), weight: 2 },
);

const input: fc.Arbitrary<MessageInput> = fc.record({
  messageId: fc.constant('m-1'),
  failure,
  attempts: fc.constant(1),
  gateOpen: fc.boolean(),
  seed: fc.integer(),
  settings: fc.record({
    maxAttempts: fc.integer({ min: 1, max: 5 }),
    confirmTimeoutMs: fc.constant(5_000),
    parkedRetryDelayMs: fc.integer({ min: 1_000, max: 20_000 }),
    retry: fc.record({
      initialDelayMs: fc.constant(1_000),
      maxDelayMs: fc.constant(10_000),
      multiplier: fc.constant(2),
      jitter: fc.constantFrom(...JITTER_STRATEGIES),
      jitterFactor: fc.constant(0.3),
    }),
  }),
});

interface Pending {
  resolve(): void;
  reject(error: unknown): void;
}

/** A message actor on a simulated clock whose effects the test settles and whose hooks journal. */
function startActor(clock: SimulatedClock, actorInput: MessageInput, journal: JournalEvent[]) {
  const effects: { publish: Pending | null; deadLetter: Pending | null } = {
    publish: null,
    deadLetter: null,
  };
  const controlled = (name: 'publish' | 'deadLetter') =>
    fromPromise<void, MessageEffectInput>(
      () =>
        new Promise<void>((resolve, reject) => {
          effects[name] = { resolve, reject };
        }),
    );
  const hook =
    (build: (context: MessageContext, at: number) => JournalEvent) =>
    ({ context }: { context: MessageContext }) =>
      journal.push(build(context, clock.now()));
  const machine = messageMachine.provide({
    actors: { publish: controlled('publish'), deadLetter: controlled('deadLetter') },
    actions: {
      journalFailure: hook(failedEvent),
      journalRetryScheduled: hook(retryScheduledEvent),
      journalParked: hook(parkedEvent),
    },
  });
  const actor = createActor(machine, { clock, input: actorInput });
  actor.subscribe({ error: () => undefined });
  actor.start();
  return { actor, effects };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

async function apply(
  live: {
    actor: Actor<typeof messageMachine>;
    effects: { publish: Pending | null; deadLetter: Pending | null };
  },
  clock: SimulatedClock,
  next: Step,
): Promise<void> {
  const { actor, effects } = live;
  if (actor.getSnapshot().status !== 'active') return;
  const at = (state: string) => actor.getSnapshot().matches(state as never);
  switch (next.kind) {
    case 'advance':
      clock.increment(next.ms);
      break;
    case 'publishDone':
    case 'publishFailed':
      if (!at('publishing') || effects.publish === null) return;
      if (next.kind === 'publishDone') effects.publish.resolve();
      else effects.publish.reject(next.failure);
      effects.publish = null;
      break;
    case 'ack':
      if (at('awaitingConfirm')) actor.send({ type: 'confirm.ack' });
      break;
    case 'confirmFailed':
      if (at('awaitingConfirm')) actor.send({ type: 'confirm.failed', failure: next.failure });
      break;
    case 'gate':
      actor.send({ type: 'gate.changed', open: next.open });
      break;
    case 'deadLetterDone':
    case 'deadLetterFailed':
      if (!at('deadLettering.sending') || effects.deadLetter === null) return;
      if (next.kind === 'deadLetterDone') effects.deadLetter.resolve();
      else effects.deadLetter.reject(new Error('dead-letter exchange down'));
      effects.deadLetter = null;
      break;
  }
  await settle();
}

/** What a restart does to a state whose effect was in flight: the effect starts over. */
function afterRestart(value: StateValue, gateOpen: boolean): StateValue {
  const awaitingConfirm = typeof value === 'object' && 'awaitingConfirm' in value;
  if (value === 'publishing' || awaitingConfirm) return gateOpen ? 'publishing' : 'waiting';
  if (typeof value === 'object' && (value as { deadLettering?: string }).deadLettering === 'sending') {
    return { deadLettering: gateOpen ? 'sending' : 'waiting' };
  }
  return value;
}

describe('journal replay', () => {
  it('folding the journal equals the live machine, and resuming from the fold restores it', async () => {
    await fc.assert(
      fc.asyncProperty(input, fc.array(step, { maxLength: 30 }), async (actorInput, steps) => {
        const clock = new SimulatedClock();
        clock.set(1_700_000_000_000);
        const events: JournalEvent[] = [{ type: 'accepted', message: outbound(actorInput.messageId) }];
        const live = startActor(clock, actorInput, events);
        await settle();
        for (const next of steps) await apply(live, clock, next);

        const snapshot = live.actor.getSnapshot();
        const { context } = snapshot;
        if (snapshot.status === 'done') {
          // The runtime journals the outcome it reports.
          events.push({
            type: snapshot.output!.outcome,
            messageId: context.messageId,
            at: clock.now(),
          } as JournalEvent);
        }
        const record = foldMessage(events)!;
        if (snapshot.status === 'done') {
          expect(record.state).toBe(snapshot.output!.outcome);
          return;
        }
        // Parked from the first failed hand-off until one works, retries of the hand-off included.
        expect(record.state).toBe(context.deadLetterFailures > 0 ? 'parked' : 'retrying');
        expect(record.attempts).toBe(context.attempts);
        expect(record.lastFailure).toEqual(context.lastFailure);
        expect(record.random).toBe(context.random);
        expect(record.deadLetterFailures).toBe(context.deadLetterFailures);
        expect(record.nextDelayMs ?? context.settings.retry.initialDelayMs).toBe(context.nextDelayMs);

        // Crash here: resume from the fold on a clock at the same time.
        const ticket = resumeTicket(
          { ...record, state: record.state as 'retrying', parked: record.state === 'parked' },
          clock.now(),
        );
        const restoredClock = new SimulatedClock();
        restoredClock.set(clock.now());
        const restored = startActor(
          restoredClock,
          {
            messageId: ticket.messageId,
            failure: ticket.failure,
            attempts: ticket.attempts,
            gateOpen: context.gateOpen,
            seed: 0,
            settings: actorInput.settings!,
            ...(ticket.resume === undefined ? {} : { resume: ticket.resume }),
          },
          [],
        );
        await settle();
        const timed = snapshot.matches('retryWait') || snapshot.matches('parked');
        if (!timed) {
          // A timer that already fired comes back with nothing left: it fires at once.
          restoredClock.increment(0);
          await settle();
        }
        const resumed = restored.actor.getSnapshot();
        expect(resumed.value).toEqual(afterRestart(snapshot.value, context.gateOpen));
        const { resumeTimer: _a, ...restoredContext } = resumed.context;
        const { resumeTimer: _b, ...liveContext } = context;
        expect(restoredContext).toEqual(liveContext);

        if (timed) {
          // The re-armed timer fires exactly when the live one does.
          const before = snapshot.value;
          let remaining = 0;
          while (live.actor.getSnapshot().value === before && remaining < 200_000) {
            clock.increment(1);
            remaining += 1;
          }
          restoredClock.increment(remaining - 1);
          expect(restored.actor.getSnapshot().value).toEqual(before);
          restoredClock.increment(1);
          expect(restored.actor.getSnapshot().value).toEqual(live.actor.getSnapshot().value);
        }
        live.actor.stop();
        restored.actor.stop();
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
