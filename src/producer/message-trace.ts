/**
 * The tracing seam: what the ledger tells a message tracer about each message's life, from acceptance to
 * its outcome. The producer knows only this interface; src/tracing/ implements it with OpenTelemetry,
 * loaded only when `@opentelemetry/api` is installed. Without a tracer the ledger's calls are one null
 * check each.
 *
 * @internal
 */
import type { Accepted } from './accepted.js';
import type { Settlement } from './receipt.js';

/** Why a written message's outcome became unknown. */
export type UnknownCause = 'confirm-timeout' | 'channel-lost' | 'connection-lost';

/**
 * Where a message ferry did not accept in this process came from: the journal (after a restart, or
 * claimed from a dead instance), or the alternate exchange's queue (caught unroutable).
 */
export type AdoptedFrom = 'journal' | 'alternate-exchange';

/** A broker answer to one write that is not a confirm. */
export type FailedAnswer = 'nacked' | 'returned' | 'confirm-timeout' | 'channel-lost';

/**
 * Per-message events, synchronously, from the producer's bookkeeping, each about the record the runtime
 * holds for the message: traced from {@link MessageTrace.start} or {@link MessageTrace.adopted} until
 * {@link MessageTrace.settled}, {@link MessageTrace.refused} or {@link MessageTrace.closed}; a record
 * it does not trace is ignored. The tracer keeps its state on the record (`Accepted.traced`).
 *
 * @internal
 */
export interface MessageTrace {
  /**
   * A validated batch about to be journaled: returns it, its messages' headers set to their trace
   * context when something traces (journaled and published with them). The headers are set on the
   * properties ferry built for each message, in place; a caller's headers object is copied, never
   * changed.
   */
  start(batch: Accepted[]): Accepted[];
  /** The batch was not accepted after all (no room in time, the journal failed, closed). */
  refused(batch: readonly Accepted[], failure: { readonly code: string }): void;
  /** A message came back from `from`: it is traced again, linked to the context in its headers. */
  adopted(accepted: Accepted, from: AdoptedFrom): void;
  /** The broker answered one of its writes with something other than a confirm. */
  failed(accepted: Accepted, answer: FailedAnswer): void;
  /** Its outcome became unknown: with `connection-lost`, it goes back to be published again. */
  outcomeUnknown(accepted: Accepted, cause: UnknownCause): void;
  /** Its actor wrote a retry; `attempts` counts the failed ones so far. */
  retried(accepted: Accepted, attempts: number): void;
  /** Its dead-letter hand-off failed: it is parked, kept and handed off again later. */
  parked(accepted: Accepted, failureCode: string): void;
  /**
   * It reached its outcome, `elapsedMs` after it was accepted; `failureCode` is the failure a
   * dead-lettered message ended with, when known.
   */
  settled(accepted: Accepted, outcome: Settlement, elapsedMs: number, failureCode?: string): void;
  /** The producer closed: `unsettled`, what it still held, stays journaled. */
  closed(unsettled: Iterable<Accepted>): void;
}
