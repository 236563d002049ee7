/**
 * The in-memory journal: the fold of the events, nothing on disk.
 *
 * For tests, and for users who accept that a crash of the process loses every message not yet
 * confirmed. A second producer given the same object picks up what the first one left.
 */
import { JournalState } from './fold.js';
import type { Journal, JournalEvent, PendingMessage } from './journal.js';

const done = Promise.resolve();

/** A journal that forgets everything when the process exits. */
export class MemoryJournal implements Journal {
  readonly kind = 'memory';
  readonly durable = false;
  private readonly state = new JournalState();

  open(): Promise<readonly PendingMessage[]> {
    return Promise.resolve(this.state.pending());
  }

  append(event: JournalEvent): void {
    this.state.apply(event);
  }

  commit(): Promise<void> {
    return done;
  }

  pendingCount(): number {
    return this.state.size;
  }

  /** The fold as it stands, for tests and the CLI. */
  snapshot(): readonly PendingMessage[] {
    return this.state.pending();
  }

  close(): Promise<void> {
    return done;
  }
}
