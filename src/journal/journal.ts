/**
 * The journal port: what ferry writes so that state after a crash is the journal replayed.
 *
 * Events, not snapshots: a message's state is the fold of its events (fold.ts, shared by every backend).
 * Backends decide how to store them and when they are durable; `commit()` is the only promise of
 * durability. Finished messages (confirmed, dead-lettered) are compacted away, so a journal holds what
 * is still owed plus, until the next compaction, a little garbage.
 */
import type { Failure } from '../../machines/failure.js';
import type { RandomState } from '../../machines/random.js';
import type { OutboundMessage } from '../message/outbound-message.js';

/** One journaled fact about one message. */
export type JournalEvent =
  | { readonly type: 'accepted'; readonly message: OutboundMessage }
  | {
      readonly type: 'failed';
      readonly messageId: string;
      /** Attempts counted so far, the failed one included. */
      readonly attempts: number;
      readonly failure: Failure;
      readonly at: number;
      /** The message actor's jitter generator state; absent for a failure seen before it had an actor. */
      readonly random?: RandomState;
    }
  | {
      /** A retry timer was started: the message publishes again at `retryAt`. */
      readonly type: 'retry-scheduled';
      readonly messageId: string;
      /** The planned delay (the one backoff drew, not what is left of it after a restart). */
      readonly delayMs: number;
      /** Wall-clock deadline of the timer, ms since the epoch. */
      readonly retryAt: number;
      /** Jitter generator state after the draw. */
      readonly random: RandomState;
      readonly at: number;
    }
  | { readonly type: 'confirmed'; readonly messageId: string; readonly at: number }
  | { readonly type: 'dead-lettered'; readonly messageId: string; readonly at: number }
  | {
      /** The dead-letter hand-off failed: the message waits and tries it again at `retryAt`. */
      readonly type: 'parked';
      readonly messageId: string;
      readonly at: number;
      /** Failed dead-letter hand-offs so far. */
      readonly deadLetterFailures: number;
      readonly retryAt: number;
    };

/** The `type` of a {@link JournalEvent}. */
export type JournalEventType = JournalEvent['type'];

/** Where a message stands, as its events fold. */
export type MessageState = 'pending' | 'retrying' | 'parked' | 'confirmed' | 'dead-lettered';

/** The states of a message the journal still owns. */
export type UnfinishedState = Exclude<MessageState, 'confirmed' | 'dead-lettered'>;

/** The fold of one message's events: everything needed to pick it up where it was. */
export interface MessageRecord {
  readonly message: OutboundMessage;
  /**
   * `pending`: accepted, no failure journaled (on the healthy path, outcome unknown after a crash);
   * `retrying`: a failure was journaled (retry timer, waiting for the connection, or dead-lettering);
   * `parked`: its dead-letter hand-off failed and waits to be tried again.
   */
  readonly state: MessageState;
  /** Attempts counted so far; 0 if it never failed. */
  readonly attempts: number;
  readonly lastFailure: Failure | null;
  /** The message actor's jitter generator state, once it had an actor. */
  readonly random: RandomState | null;
  /** The last planned retry delay. */
  readonly nextDelayMs: number | null;
  /** Deadline of the journaled retry or parked timer, ms since the epoch; `null` when none runs. */
  readonly retryAt: number | null;
  /** Failed dead-letter hand-offs. */
  readonly deadLetterFailures: number;
}

/** A message the journal still owns: accepted and not yet confirmed or dead-lettered. */
export interface PendingMessage extends MessageRecord {
  readonly state: UnfinishedState;
  /** Whether it is parked (`state === 'parked'`). */
  readonly parked: boolean;
}

/** Where a journal's opening stands (see `withOpenRetry`). */
export interface JournalStatus {
  /**
   * `idle` before the first open, `opening` while an attempt runs, `failed` between attempts (the
   * next one is due at `retryAt`), `open`, `closed`.
   */
  readonly state: 'idle' | 'opening' | 'open' | 'failed' | 'closed';
  /** Failed attempts to open. */
  readonly failedAttempts: number;
  /** Why the last attempt failed; `null` once open. */
  readonly lastError: { readonly code: string; readonly message: string } | null;
  /** When the next attempt starts, ms since the epoch; `null` unless `failed`. */
  readonly retryAt: number | null;
}

/** Storage for journal events. */
export interface Journal {
  /** `memory`, `sqlite`, `redis`, ... */
  readonly kind: string;
  /** Whether committed events survive this process. */
  readonly durable: boolean;
  /**
   * Opens the store and returns the messages it still owns from before, oldest first. Idempotent:
   * later calls return the same messages.
   */
  open(): Promise<readonly PendingMessage[]>;
  /** Buffers an event; it is durable once a later `commit()` resolves. */
  append(event: JournalEvent): void;
  /** Resolves when every event appended before the call is durable. */
  commit(): Promise<void>;
  /** Messages accepted and not yet finished. */
  pendingCount(): number;
  /**
   * Shared backends only: takes over the unfinished messages of instances whose lease expired and
   * returns them; an empty list when there is nothing to take.
   */
  claim?(): Promise<readonly PendingMessage[]>;
  /** How often {@link claim} is worth calling, ms. */
  readonly claimIntervalMs?: number;
  /** Where its opening stands; a journal without it is taken as open once `open()` resolved. */
  status?(): JournalStatus;
  close(): Promise<void>;
}
