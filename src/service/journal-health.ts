/**
 * Whether the journal can take tasks, as the health routes report it. A journal that fails after
 * start-up (a full disk, a removed directory, a lost Redis) leaves the process unable to accept
 * anything: liveness fails so that it is restarted, and readiness says why.
 *
 * While the journal cannot be opened, the failure is the one its status reports
 * (`status().journal.lastError`). Once open, its status says nothing about later writes: the failure
 * is then what this service saw, a task refused by a journal error or a background write's failure,
 * until a task is accepted (its commit went through).
 */
import type { JournalStatus } from '../journal/journal.js';

/** A journal failure as the health routes show it. */
export interface JournalFailure {
  readonly code: string;
  readonly message: string;
}

/** A journal's error: a `JournalError` (its codes start with `JOURNAL_`) from any backend. */
export function isJournalError(error: unknown): error is Error & { readonly code: string } {
  return (
    error instanceof Error &&
    typeof (error as { code?: unknown }).code === 'string' &&
    String((error as { code?: unknown }).code).startsWith('JOURNAL_')
  );
}

/** The journal's health for the health routes. */
export class JournalHealth {
  private seen: JournalFailure | null = null;

  /** `journal`: the journal's status now, as `producer.status().journal` gives it. */
  constructor(private readonly journal: () => JournalStatus) {}

  /** A journal error was seen (a refused task, a failed background write). */
  failed(error: unknown): void {
    if (!isJournalError(error)) return;
    this.seen = { code: error.code, message: error.message };
  }

  /** A task was accepted: its commit went through. */
  recovered(): void {
    this.seen = null;
  }

  /** The journal's failure now, or `null`. */
  failure(): JournalFailure | null {
    return this.journal().lastError ?? this.seen;
  }
}
