import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxBackoffDelay } from '../../../machines/backoff.js';
import type { Failure } from '../../../machines/failure.js';
import { DEFAULT_MESSAGE_SETTINGS } from '../../../machines/message.machine.js';
import { type MessageHarness, startMessage } from '../support/message-harness.js';
import { until } from '../support/settle.js';

const settings = DEFAULT_MESSAGE_SETTINGS;

const failure: fc.Arbitrary<Failure> = fc.record({
  code: fc.constantFrom('NACKED', 'RETURNED', 'CHANNEL_LOST', 'CONNECTION_LOST', 'UNKNOWN', 'NOT_FOUND'),
  message: fc.constant('injected'),
  permanent: fc.constantFrom(false, false, false, true),
});

/** Something the outside world does to a retrying message, whatever state it is in. */
type Stimulus =
  | { readonly kind: 'ack' }
  | { readonly kind: 'confirmFailed'; readonly failure: Failure }
  | { readonly kind: 'publishResolves' }
  | { readonly kind: 'publishRejects'; readonly failure: Failure }
  | { readonly kind: 'deadLetterResolves' }
  | { readonly kind: 'deadLetterRejects' }
  | { readonly kind: 'gate'; readonly open: boolean }
  | { readonly kind: 'elapse'; readonly ms: number };

const stimulus: fc.Arbitrary<Stimulus> = fc.oneof(
  fc.constant({ kind: 'ack' as const }),
  failure.map((f) => ({ kind: 'confirmFailed' as const, failure: f })),
  fc.constant({ kind: 'publishResolves' as const }),
  failure.map((f) => ({ kind: 'publishRejects' as const, failure: f })),
  fc.constant({ kind: 'deadLetterResolves' as const }),
  fc.constant({ kind: 'deadLetterRejects' as const }),
  fc.boolean().map((open) => ({ kind: 'gate' as const, open })),
  fc
    .oneof(
      fc.nat(2_000),
      fc.constantFrom(
        settings.confirmTimeoutMs,
        settings.parkedRetryDelayMs,
        maxBackoffDelay(settings.retry),
      ),
    )
    .map((ms) => ({ kind: 'elapse' as const, ms })),
);

/** Settles the pending effect if the actor is waiting on it, and waits for the actor to react. */
async function settleEffect(harness: MessageHarness, pending: boolean, settle: () => void): Promise<void> {
  if (!pending) return;
  const before = harness.actor.getSnapshot();
  settle();
  await until(harness.actor, (snapshot) => snapshot !== before);
}

async function apply(harness: MessageHarness, step: Stimulus): Promise<void> {
  const { actor, clock, publish, deadLetter } = harness;
  const publishing = actor.getSnapshot().matches('publishing');
  const deadLettering = actor.getSnapshot().matches({ deadLettering: 'sending' });
  switch (step.kind) {
    case 'ack':
      return actor.send({ type: 'confirm.ack' });
    case 'confirmFailed':
      return actor.send({ type: 'confirm.failed', failure: step.failure });
    case 'gate':
      return actor.send({ type: 'gate.changed', open: step.open });
    case 'elapse':
      return clock.increment(step.ms);
    case 'publishResolves':
      return settleEffect(harness, publishing, () => publish.latest().resolve());
    case 'publishRejects':
      return settleEffect(harness, publishing, () => publish.latest().reject(step.failure));
    case 'deadLetterResolves':
      return settleEffect(harness, deadLettering, () => deadLetter.latest().resolve());
    case 'deadLetterRejects':
      return settleEffect(harness, deadLettering, () =>
        deadLetter.latest().reject(new Error('dead-letter exchange down')),
      );
  }
}

/** Once the adversary is done, the world heals: what does the message need to finish? */
function healingStep(harness: MessageHarness): Stimulus {
  const snapshot = harness.actor.getSnapshot();
  if (snapshot.matches('retryWait')) return { kind: 'elapse', ms: snapshot.context.nextDelayMs };
  if (snapshot.matches('parked')) return { kind: 'elapse', ms: settings.parkedRetryDelayMs };
  if (snapshot.matches('publishing')) return { kind: 'publishResolves' };
  if (snapshot.matches('awaitingConfirm')) return { kind: 'ack' };
  if (snapshot.matches({ deadLettering: 'sending' })) return { kind: 'deadLetterResolves' };
  return { kind: 'gate', open: true };
}

describe('message: never dropped', () => {
  it('whatever happens, it never errors and ends confirmed or dead-lettered with a matching output', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 7 }),
        failure,
        fc.boolean(),
        fc.array(stimulus, { maxLength: 60 }),
        async (maxAttempts, attempts, firstFailure, gateOpen, stimuli) => {
          const harness = startMessage({
            failure: firstFailure,
            attempts,
            gateOpen,
            settings: { ...settings, maxAttempts },
          });
          const errors: unknown[] = [];
          harness.actor.subscribe({ error: (error) => errors.push(error) });
          let acked = false;

          const run = async (step: Stimulus) => {
            if (harness.actor.getSnapshot().status === 'done') return;
            if (step.kind === 'ack' && harness.actor.getSnapshot().matches('awaitingConfirm')) acked = true;
            await apply(harness, step);
            expect(harness.actor.getSnapshot().status).not.toBe('error');
            expect(errors).toEqual([]);
          };
          for (const step of stimuli) await run(step);
          for (let heal = 0; heal < 20 && harness.actor.getSnapshot().status !== 'done'; heal++) {
            await run(healingStep(harness));
          }

          const final = harness.actor.getSnapshot();
          expect(final.status).toBe('done');
          expect(['confirmed', 'deadLettered']).toContain(final.value);
          const output = final.output;
          expect(output?.messageId).toBe(final.context.messageId);
          expect(output?.outcome).toBe(final.value === 'confirmed' ? 'confirmed' : 'dead-lettered');
          // Confirmed only by an ack; dead-lettered only when retrying cannot help or is spent.
          expect(final.value === 'confirmed').toBe(acked);
          if (final.value === 'deadLettered') {
            expect(output?.lastFailure.permanent === true || (output?.attempts ?? 0) >= maxAttempts).toBe(
              true,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
