/**
 * The journal events a message actor's hooks write, built from its context. The producer's hooks and
 * the replay tests use these same functions, so what is journaled is what the fold is tested against.
 */
import { type MessageContext, timerDelayMs } from '../../machines/message.machine.js';
import type { JournalEvent } from './journal.js';

/** `journalFailure`: the failure that brought the actor into triage, and its generator state. */
export function failedEvent(context: MessageContext, at: number): JournalEvent {
  return {
    type: 'failed',
    messageId: context.messageId,
    attempts: context.attempts,
    failure: context.lastFailure,
    at,
    random: context.random,
  };
}

/** `journalRetryScheduled`: the retry timer just started, with its wall-clock deadline. */
export function retryScheduledEvent(context: MessageContext, at: number): JournalEvent {
  return {
    type: 'retry-scheduled',
    messageId: context.messageId,
    delayMs: context.nextDelayMs,
    retryAt: at + timerDelayMs(context, 'retryWait'),
    random: context.random,
    at,
  };
}

/** `journalParked`: the dead-letter hand-off failed; the next one is due at `retryAt`. */
export function parkedEvent(context: MessageContext, at: number): JournalEvent {
  return {
    type: 'parked',
    messageId: context.messageId,
    at,
    deadLetterFailures: context.deadLetterFailures,
    retryAt: at + timerDelayMs(context, 'parked'),
  };
}
