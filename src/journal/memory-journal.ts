/**
 * The in-memory journal: the fold of the events, nothing on disk.
 *
 * For tests, and for users who accept that a crash of the process loses every message not yet
 * confirmed. A second producer given the same object picks up what the first one left.
 */
import type { JournalState } from './fold.js';
import { InOrderLive } from './in-order-live.js';
import type { Journal, JournalEvent, PendingMessage } from './journal.js';

const done = Promise.resolve();

/** A journal that forgets everything when the process exits. */
export class MemoryJournal implements Journal {
  readonly kind = 'memory';
  readonly durable = false;
  /** Every live message while they finish in acceptance order (the healthy path). */
  private inOrder = new InOrderLive();
  /** The fold, from the first event out of order until nothing is live again; `null` meanwhile. */
  private state: JournalState | null = null;

  open(): Promise<readonly PendingMessage[]> {
    return Promise.resolve(this.folded().pending());
  }

  append(event: JournalEvent): void {
    if (this.state === null) {
      if (this.inOrder.take(event)) return;
      this.state = this.inOrder.fold();
      this.inOrder = new InOrderLive();
    }
    this.state.apply(event);
    if (this.state.size === 0) this.state = null;
  }

  commit(): Promise<void> {
    return done;
  }

  pendingCount(): number {
    return this.folded().size;
  }

  /** The fold as it stands, for tests and the CLI. */
  snapshot(): readonly PendingMessage[] {
    return this.folded().pending();
  }

  close(): Promise<void> {
    return done;
  }

  private folded(): JournalState {
    return this.state ?? this.inOrder.fold();
  }
}
