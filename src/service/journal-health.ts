/**
 * Whether the journal can take tasks, as the health routes report it. A journal that fails after
 * start-up (a full disk, a removed directory, a lost Redis) leaves the process unable to accept
 * anything: liveness fails so that it is restarted, and readiness says why.
 *
 * The failure is read from the producer's status when it reports its journal there (a `journal`
 * object with `healthy` or `lastError`); otherwise it is what this service saw: a task refused by a
 * journal error, or a background write's failure. A task accepted since (its commit went through)
 * clears it.
 */
import type { ProducerStatus } from '../producer/status.js';

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

/** The failure the producer's status reports for its journal, `null` if healthy, `undefined` if it does not say. */
function reported(status: ProducerStatus): JournalFailure | null | undefined {
  if (!('journal' in status)) return undefined;
  const journal: unknown = status.journal;
  if (typeof journal !== 'object' || journal === null) return undefined;
  const { healthy, lastError } = journal as { healthy?: unknown; lastError?: unknown };
  if (healthy === true) return null;
  if (typeof lastError === 'object' && lastError !== null) {
    const { code, message } = lastError as { code?: unknown; message?: unknown };
    if (typeof message === 'string') {
      return { code: typeof code === 'string' ? code : 'JOURNAL_UNAVAILABLE', message };
    }
  }
  return healthy === false
    ? { code: 'JOURNAL_UNAVAILABLE', message: 'the journal is unavailable' }
    : undefined;
}

/** The journal's health for the health routes. */
export class JournalHealth {
  private seen: JournalFailure | null = null;

  constructor(private readonly status: () => ProducerStatus) {}

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
    const fromStatus = reported(this.status());
    return fromStatus === undefined ? this.seen : fromStatus;
  }
}
