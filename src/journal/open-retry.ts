/**
 * A journal that opens late: a store that cannot be opened yet (a sqlite folder created a moment
 * later, a Redis that comes up after ferry) is tried again with backoff until it opens, and `status()`
 * says why meanwhile. `open()` resolves once the store opens, however many attempts that takes; it
 * rejects only for a journal ferry must not touch (`JOURNAL_TOO_NEW`, `JOURNAL_CORRUPT`), which no
 * wait will change, or when closed first.
 *
 * While the store is not open, a commit is refused (`JOURNAL_UNAVAILABLE`) and what it would have
 * written is dropped: a refused message is not the journal's, so it is not counted as pending.
 */
import { emitFerryWarning } from '../warnings.js';
import type { Journal, JournalEvent, JournalStatus, PendingMessage } from './journal.js';
import { JournalError } from './journal-error.js';

/** Options of {@link withOpenRetry}. */
export interface OpenRetryOptions {
  /** Wait after the first failed attempt, ms; doubled after each one. Default 100. */
  readonly initialDelayMs?: number;
  /** Longest wait between attempts, ms. Default 5,000. */
  readonly maxDelayMs?: number;
  /** Told about the first failure of a run of failed attempts; a `FerryJournalWarning` by default. */
  readonly onError?: (error: unknown) => void;
}

/** Errors that no retry will mend: the journal is refused until someone changes it. */
const PERMANENT: ReadonlySet<string> = new Set(['JOURNAL_TOO_NEW', 'JOURNAL_CORRUPT']);

interface Waiter {
  readonly promise: Promise<readonly PendingMessage[]>;
  resolve(records: readonly PendingMessage[]): void;
  reject(error: unknown): void;
}

function waiter(): Waiter {
  let resolve!: Waiter['resolve'];
  let reject!: Waiter['reject'];
  const promise = new Promise<readonly PendingMessage[]>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The producer may not wait on it (publish before start): its rejection is reported by status().
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** @internal */
class OpenRetryJournal implements Journal {
  readonly kind: string;
  readonly durable: boolean;
  readonly claimIntervalMs?: number;
  readonly claim?: () => Promise<readonly PendingMessage[]>;
  private phase: JournalStatus['state'] = 'idle';
  private failedAttempts = 0;
  private lastError: unknown = null;
  private retryAt: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The attempt running now. */
  private attempt: Promise<void> | null = null;
  private opened: Waiter | null = null;
  /** Appended while not open: written if the running attempt opens the store, dropped otherwise. */
  private held: JournalEvent[] = [];

  constructor(
    private readonly inner: Journal,
    private readonly options: OpenRetryOptions,
  ) {
    this.kind = inner.kind;
    this.durable = inner.durable;
    if (inner.claimIntervalMs !== undefined) this.claimIntervalMs = inner.claimIntervalMs;
    const claim = inner.claim?.bind(inner);
    if (claim !== undefined) this.claim = () => (this.phase === 'open' ? claim() : Promise.resolve([]));
  }

  open(): Promise<readonly PendingMessage[]> {
    if (this.phase === 'closed') return Promise.reject(closedError());
    this.opened ??= waiter();
    if (this.phase === 'idle' || (this.phase === 'failed' && this.timer === null)) this.tryOpen();
    return this.opened.promise;
  }

  append(event: JournalEvent): void {
    if (this.phase === 'open') this.inner.append(event);
    else this.held.push(event);
  }

  commit(): Promise<void> {
    return this.phase === 'open' ? this.inner.commit() : this.commitOnceOpen();
  }

  pendingCount(): number {
    return this.inner.pendingCount();
  }

  status(): JournalStatus {
    const error = this.lastError;
    return {
      state: this.phase,
      failedAttempts: this.failedAttempts,
      lastError:
        error === null
          ? null
          : {
              code: String((error as { code?: unknown }).code ?? 'JOURNAL_UNAVAILABLE'),
              message: error instanceof Error ? error.message : String(error),
            },
      retryAt: this.retryAt,
    };
  }

  async close(): Promise<void> {
    this.phase = 'closed';
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.retryAt = null;
    this.held = [];
    this.opened?.reject(closedError());
    await this.attempt;
    await this.inner.close();
  }

  /** Waits for an attempt running now; refuses at once between attempts. */
  private async commitOnceOpen(): Promise<void> {
    if (this.phase === 'idle') this.open();
    if (this.phase === 'opening') await this.attempt;
    if (this.isOpen()) return this.inner.commit();
    this.held = [];
    throw this.unavailable();
  }

  private isOpen(): boolean {
    return this.phase === 'open';
  }

  private tryOpen(): void {
    this.phase = 'opening';
    this.retryAt = null;
    this.timer = null;
    this.attempt = this.inner.open().then(
      (records) => this.onOpen(records),
      (error: unknown) => this.onFailure(error),
    );
  }

  private onOpen(records: readonly PendingMessage[]): void {
    if (this.phase === 'closed') return;
    this.phase = 'open';
    this.lastError = null;
    for (const event of this.held) this.inner.append(event);
    this.held = [];
    this.opened?.resolve(records);
  }

  private onFailure(error: unknown): void {
    if (this.phase === 'closed') return;
    this.phase = 'failed';
    if (this.lastError === null) {
      (
        this.options.onError ??
        ((e) => emitFerryWarning('FerryJournalWarning', 'the journal cannot open yet', e))
      )(error);
    }
    this.failedAttempts += 1;
    this.lastError = error;
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && PERMANENT.has(code)) {
      // Tried again only when asked (open() or a commit): it takes someone to change the store.
      this.opened?.reject(error);
      this.opened = null;
      return;
    }
    const initial = this.options.initialDelayMs ?? 100;
    const delay = Math.min(
      this.options.maxDelayMs ?? 5_000,
      initial * 2 ** Math.min(this.failedAttempts - 1, 30),
    );
    this.retryAt = Date.now() + delay;
    this.timer = setTimeout(() => this.tryOpen(), delay);
    this.timer.unref();
  }

  private unavailable(): JournalError {
    const why = this.status().lastError?.message ?? 'it is not open';
    const next =
      this.retryAt === null ? '' : `; trying again in ${Math.max(0, this.retryAt - Date.now())} ms`;
    return new JournalError('JOURNAL_UNAVAILABLE', `the ${this.kind} journal is not open (${why})${next}`, {
      cause: this.lastError,
    });
  }
}

function closedError(): JournalError {
  return new JournalError('JOURNAL_UNAVAILABLE', 'the journal was closed before it opened');
}

/**
 * Wraps a journal so that a failed open is tried again with backoff instead of failing for good, and
 * reports where opening stands in `status()`. A journal already wrapped is returned as it is.
 */
export function withOpenRetry(journal: Journal, options: OpenRetryOptions = {}): Journal {
  return journal instanceof OpenRetryJournal ? journal : new OpenRetryJournal(journal, options);
}

/** A journal's {@link JournalStatus}; one without `status()` counts as open. */
export function journalStatus(journal: Journal): JournalStatus {
  return journal.status?.() ?? { state: 'open', failedAttempts: 0, lastError: null, retryAt: null };
}
