/**
 * What the hot path (publisher.ts) works with and reports to: its dependencies and settings, kept
 * apart so the parts it reports to can name them without importing the hot path itself.
 */
import type { SettleOutcome } from '../amqp/confirm-tracker.js';
import type { FerryError } from '../errors.js';
import type { Accepted } from './accepted.js';
import type { UnknownCause } from './message-trace.js';
import type { Outbox } from './outbox.js';
import type { ActorWriteOwners } from './write-owner.js';

/** Where a first publish (or the breaker's probe) ends when the broker answers it. */
export interface FirstPublishOutcomes {
  /** Confirmed: the message is done. */
  confirmed(accepted: Accepted): void;
  /** Failed or refused: it needs a message actor. */
  failed(accepted: Accepted, failure: FerryError): void;
}

/** What the breaker hears from the hot path. */
export interface BreakerSignals {
  /** A broker outcome that the breaker counts: `null` for a success. */
  outcome(failure: FerryError | null): void;
  /** The half-open breaker's one probe message was written. */
  probeSent(): void;
}

/** Connection-level signals from the session, forwarded to the connection machine. */
export type ConnectionSignal =
  | { readonly type: 'connection.blocked'; readonly reason: string }
  | { readonly type: 'connection.unblocked' }
  | { readonly type: 'connection.lost'; readonly failure: FerryError };

/** What the hot path reports that is no write's outcome. */
export interface PublisherReports {
  /**
   * The broker answered one of its writes, made at `writtenAt` (ms), or did not in time; for
   * observers, before the owner hears.
   */
  answered(accepted: Accepted, outcome: SettleOutcome, writtenAt: number): void;
  /** A written message's outcome became unknown: it may be at the broker and will be published again. */
  outcomeUnknown(accepted: Accepted, cause: UnknownCause): void;
  /** The connection turned blocked, unblocked or died. */
  connectionEvent(event: ConnectionSignal): void;
  /**
   * The broker showed part of the topology missing (an unroutable return, a 404 closing the channel):
   * the re-declaration that answers it, which the channel's reopen waits for; `undefined` when the user
   * owns the topology.
   */
  topologyMissing(): Promise<void> | undefined;
}

/** What a {@link Publisher} works with. */
export interface PublisherDependencies {
  readonly outbox: Outbox<Accepted>;
  readonly owners: { readonly first: FirstPublishOutcomes; readonly actor: ActorWriteOwners };
  readonly breaker: BreakerSignals;
  readonly reports: PublisherReports;
}

/** The hot path's settings. */
export interface PublisherSettings {
  readonly maxInFlight: number;
  readonly confirmTimeoutMs: number;
  readonly deadLetterExchange: string;
  readonly now: () => number;
  /** How often one message over the learned size limit is written anyway, to find it raised. */
  readonly sizeRecheckMs: number;
  /**
   * Whether an unroutable message to this exchange would be caught by a proven alternate exchange, so
   * a first publish may leave `mandatory` off. Every other write sets it.
   */
  readonly unroutableCaught: ((exchange: string) => boolean) | null;
}
