/**
 * The in-memory journal: the fold of the events kept in a Map, nothing on disk.
 *
 * For tests, and for users who accept that a crash loses whatever was not yet confirmed.
 */
import type { Journal, JournalEvent, PendingMessage } from './journal.js';

const committed = Promise.resolve();

/** A journal that forgets everything when the process exits. */
export class MemoryJournal implements Journal {
  readonly kind = 'memory';
  readonly durable = false;
  private readonly pending = new Map<string, PendingMessage>();

  open(): Promise<readonly PendingMessage[]> {
    return Promise.resolve([...this.pending.values()]);
  }

  append(event: JournalEvent): void {
    switch (event.type) {
      case 'accepted':
        this.pending.set(event.message.messageId, {
          message: event.message,
          attempts: 0,
          lastFailure: null,
          parked: false,
        });
        return;
      case 'failed': {
        const entry = this.pending.get(event.messageId);
        if (entry !== undefined) {
          this.pending.set(event.messageId, {
            ...entry,
            attempts: event.attempts,
            lastFailure: event.failure,
          });
        }
        return;
      }
      case 'parked': {
        const entry = this.pending.get(event.messageId);
        if (entry !== undefined) this.pending.set(event.messageId, { ...entry, parked: true });
        return;
      }
      case 'confirmed':
      case 'dead-lettered':
        this.pending.delete(event.messageId);
        return;
    }
  }

  commit(): Promise<void> {
    return committed;
  }

  pendingCount(): number {
    return this.pending.size;
  }

  close(): Promise<void> {
    return committed;
  }
}
