/**
 * The types `Producer`'s constructor and methods take and give beyond messages and status: what can
 * be replaced (for tests and embedding), and the options and result of `flush()` and `close()`.
 */
import type { BrokerPort } from '../amqp/ports.js';
import type { ActorSystemInspector } from '../inspector/inspection.js';
import type { Journal } from '../journal/journal.js';

/** Replaceable parts, for tests and for embedding in an existing XState system. */
export interface ProducerDependencies {
  /** The AMQP client; the amqplib adapter by default. */
  readonly broker?: BrokerPort;
  /** Where accepted messages are journaled; overrides the `journal` option. */
  readonly journal?: Journal;
  /** Wall clock in ms; `Date.now` by default. */
  readonly now?: () => number;
  /** Observes the whole actor system (for example the Stately inspector's `inspect`, `ferry/inspector`). */
  readonly inspect?: ActorSystemInspector;
}

/** Options of {@link Producer.flush}. */
export interface FlushOptions {
  /** Stop waiting after this many ms (the messages go on); no limit when absent. */
  readonly timeoutMs?: number;
}

/** What {@link Producer.close} resolves with. */
export interface CloseResult {
  /**
   * Unconfirmed messages this close dropped: only a journal that does not outlive the process (the
   * memory journal) drops any; a durable one keeps them for the next start. Their receipts rejected
   * `CLOSED` saying they are lost, and a `FerryJournalWarning` says how many.
   */
  readonly dropped: number;
}

/** Options of {@link Producer.close}. */
export interface CloseOptions {
  /**
   * How long to wait for messages being accepted (journal commit under way), buffered or in flight to
   * be confirmed; the rest stays journaled.
   */
  readonly timeoutMs?: number;
}
