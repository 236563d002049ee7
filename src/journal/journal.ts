/**
 * The journal port: what ferry writes so that state after a crash is the journal replayed.
 *
 * Events, not snapshots: a message's state is the fold of its events. Backends decide how to store
 * them and when they are durable; `commit()` is the only promise of durability.
 */
import type { Failure } from '../../machines/failure.js';
import type { OutboundMessage } from '../producer/publish-request.js';

/** One journaled fact about one message. */
export type JournalEvent =
  | { readonly type: 'accepted'; readonly message: OutboundMessage }
  | {
      readonly type: 'failed';
      readonly messageId: string;
      readonly attempts: number;
      readonly failure: Failure;
      readonly at: number;
    }
  | { readonly type: 'confirmed'; readonly messageId: string; readonly at: number }
  | { readonly type: 'dead-lettered'; readonly messageId: string; readonly at: number }
  | { readonly type: 'parked'; readonly messageId: string; readonly at: number };

/** A message the journal still owns: accepted and not yet confirmed or dead-lettered. */
export interface PendingMessage {
  readonly message: OutboundMessage;
  /** Attempts counted so far; 0 if it never failed. */
  readonly attempts: number;
  readonly lastFailure: Failure | null;
  readonly parked: boolean;
}

/** Storage for journal events. */
export interface Journal {
  /** `memory`, `sqlite`, `redis`, ... */
  readonly kind: string;
  /** Whether committed events survive this process. */
  readonly durable: boolean;
  /** Opens the store and returns the messages it still owns, oldest first. */
  open(): Promise<readonly PendingMessage[]>;
  /** Buffers an event; it is durable once a later `commit()` resolves. */
  append(event: JournalEvent): void;
  /** Resolves when every event appended before the call is durable. */
  commit(): Promise<void>;
  /** Messages accepted and not yet finished. */
  pendingCount(): number;
  close(): Promise<void>;
}
