/**
 * Recovery: state after a crash is the journal replayed. `journal.open()` folds the events (pure, no
 * effects); this module then decides, explicitly, what to re-issue for each unfinished message:
 *
 * - no failure journaled (`pending`): its outcome is unknown, so it is republished on the healthy path
 *   with its original `messageId` (at-least-once; consumers dedupe on the id);
 * - `retrying`: its message actor resumes; a journaled retry timer is re-armed for the time left until
 *   its deadline (a restored XState snapshot would not re-arm it), zero if the deadline passed;
 * - `parked`: its actor resumes parked, and tries the dead-letter hand-off again at the journaled time.
 *
 * The same hand-over serves messages claimed at run time from a dead instance's lease (redis). A shared
 * journal's claim never returns a message it already holds, so a claimed message is never a second
 * record of one this producer has in its outbox or in flight.
 */
import { FAILURE_CODES, type Failure } from '../../machines/failure.js';
import type { ResumeTimer } from '../../machines/message.machine.js';
import type { RetryTicket } from '../../machines/supervisor.machine.js';
import type { Journal, PendingMessage } from '../journal/journal.js';
import { emitFerryWarning } from '../warnings.js';
import { Accepted } from './accepted.js';

/** Where recovered messages go. */
export interface RecoverySink {
  /** A message this producer already holds (accepted before `start()`), not to be handed over twice. */
  isHeld(messageId: string): boolean;
  /** An unfinished message with no failure journaled: republish it on the healthy path. */
  republish(accepted: Accepted): void;
  /** A message that was retrying or parked: its actor resumes from `ticket`. */
  resume(accepted: Accepted, ticket: RetryTicket): void;
}

/** The failure of a retrying message whose failure was not journaled (not written by this ferry). */
const UNKNOWN_FAILURE: Failure = {
  code: FAILURE_CODES.channelLost,
  message: 'recovered from the journal with an unknown outcome',
  permanent: false,
};

/** The ticket that resumes a retrying or parked message's actor where its events left it. */
export function resumeTicket(record: PendingMessage, now: number): RetryTicket {
  const ticket: RetryTicket = {
    messageId: record.message.messageId,
    attempts: record.attempts,
    failure: record.lastFailure ?? UNKNOWN_FAILURE,
  };
  // No generator state means it never had an actor: it starts like a fresh failure.
  if (record.random === null) return ticket;
  const timer: ResumeTimer | null =
    record.retryAt === null
      ? null
      : { state: record.parked ? 'parked' : 'retryWait', remainingMs: Math.max(0, record.retryAt - now) };
  return {
    ...ticket,
    resume: {
      random: record.random,
      deadLetterFailures: record.deadLetterFailures,
      timer,
      ...(record.nextDelayMs === null ? {} : { nextDelayMs: record.nextDelayMs }),
    },
  };
}

/**
 * Hands unfinished messages to the runtime, oldest first.
 *
 * @returns how many were handed over.
 */
export function recoverPending(pending: readonly PendingMessage[], now: number, sink: RecoverySink): number {
  let count = 0;
  for (const record of pending) {
    if (sink.isHeld(record.message.messageId)) continue;
    const accepted = new Accepted(record.message);
    if (record.state === 'pending') sink.republish(accepted);
    else sink.resume(accepted, resumeTicket(record, now));
    count += 1;
  }
  return count;
}

/**
 * Polls a shared journal for messages of instances whose lease expired and hands them over. Does
 * nothing for journals without `claim()`.
 *
 * @returns a function that stops polling.
 */
export function startClaiming(
  journal: Journal,
  now: () => number,
  sink: RecoverySink,
  onError: (error: unknown) => void = (error) =>
    emitFerryWarning('FerryJournalWarning', 'claiming from the journal failed', error),
): () => void {
  const claim = journal.claim?.bind(journal);
  if (claim === undefined) return () => undefined;
  let running = false;
  let stopped = false;
  const run = (): void => {
    if (running || stopped) return;
    running = true;
    claim()
      .then((claimed) => recoverPending(claimed, now(), sink))
      .catch((error: unknown) => {
        onError(error);
        return 0;
      })
      .then((handed) => {
        running = false;
        // A claim that found messages may have left more behind: look again now rather than at the
        // next tick (a relay draining a backlog claims back to back).
        if (handed > 0) setImmediate(run);
      });
  };
  const timer = setInterval(run, journal.claimIntervalMs ?? 1_000);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
