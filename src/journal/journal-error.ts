/**
 * Why a journal cannot be used. Thrown by `open()` (and so by `Producer.start()`) and by the CLI's
 * readers; nothing in the store is changed or deleted on the way to this error.
 */

/** What is wrong with a journal. */
export type JournalErrorCode =
  /** Not a ferry journal, or its contents do not decode. */
  | 'JOURNAL_CORRUPT'
  /** Written by a newer ferry: its schema version is above the one this ferry reads. */
  | 'JOURNAL_TOO_NEW'
  /** The store cannot be reached or opened (missing file in read-only mode, Redis down, ...). */
  | 'JOURNAL_UNAVAILABLE'
  /** sqlite only: another process (or another journal in this one) owns the file. */
  | 'JOURNAL_LOCKED'
  /** A write failed: the events of that commit are not durable. */
  | 'JOURNAL_WRITE_FAILED'
  /**
   * Shared journals: a write was refused because this instance's lease lapsed or was claimed, and it
   * could not own again in time; nothing of that write is stored.
   */
  | 'JOURNAL_LEASE_LOST';

/** An error of a journal backend. */
export class JournalError extends Error {
  override readonly name = 'JournalError';

  constructor(
    readonly code: JournalErrorCode,
    message: string,
    options: { readonly cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}
