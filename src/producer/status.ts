/**
 * The producer's status: the connection, the breaker and the messages at one moment, and the summary
 * `state$` emits. Types only (and their small helpers), so that a user's typings never reach the
 * machines; status-projection.ts computes them.
 */
import type { BreakerPhase, ConnectionPhase } from '../../machines/phases.js';
import { type FerryErrorCode, ferryErrorCode } from '../errors.js';
import type { JournalStatus } from '../journal/journal.js';

/** A failure as status pages show it. */
export interface FailureSummary {
  /** What failed, as one of ferry's codes: switch over it exhaustively (docs/errors.md). */
  readonly code: FerryErrorCode;
  /** For people; never contains credentials or message bodies. */
  readonly message: string;
}

/** A machine's failure as a summary: a code ferry does not know reads `UNKNOWN`. */
export function summarizeFailure(failure: {
  readonly code: string;
  readonly message: string;
}): FailureSummary {
  return { code: ferryErrorCode(failure.code), message: failure.message };
}

/** The producer's state at one moment, computed synchronously. */
export interface ProducerStatus {
  /** `idle` before `start()`, `running`, `closing`, `closed`. */
  readonly state: 'idle' | 'running' | 'closing' | 'closed';
  /**
   * Running, connected (blocked included), the breaker not open, and no message parked: the ML
   * service's `isHealthy()`, which must not say healthy while a message cannot be delivered at all.
   */
  readonly healthy: boolean;
  readonly connection: {
    readonly phase: ConnectionPhase;
    readonly connected: boolean;
    readonly endpoint: string | null;
    /**
     * Confirm channels open now (the `channels` option): 0 while disconnected, one fewer for each
     * channel being reopened.
     */
    readonly channels: number;
    /** Failed attempts since the last successful connect. */
    readonly attempts: number;
    /** Successful connects after the first. */
    readonly reconnects: number;
    readonly blockedReason: string | null;
    readonly healthCheckFailures: number;
    readonly lastError: FailureSummary | null;
  };
  readonly circuitBreaker: {
    readonly state: BreakerPhase;
    readonly isOpen: boolean;
    readonly consecutiveFailures: number;
    readonly trips: number;
  };
  readonly messages: {
    /** Accepted since start. */
    readonly accepted: number;
    /** Confirmed since start, on the first try or after retries. */
    readonly confirmed: number;
    readonly deadLettered: number;
    /** Accepted and waiting for a channel (disconnected, blocked, breaker open, window full). */
    readonly buffered: number;
    readonly bufferedBytes: number;
    /** Written and waiting for their confirm. */
    readonly inFlight: number;
    /** Off the healthy path and not parked: live message actors plus the backlog waiting for one. */
    readonly retrying: number;
    /** Messages whose dead-letter hand-off failed; handed off again slowly, never dropped. */
    readonly parked: number;
    /** Why the last dead-letter hand-off of a parked message failed; `null` when none is parked. */
    readonly parkedReason: FailureSummary | null;
    /**
     * Unknown outcomes, each a possible duplicate (consumers dedupe on the message id). One count each
     * time a written message's channel or connection dies before its confirm, or its confirm does not
     * come within `publish.confirmTimeoutMs`, whatever the write was (first publish, retry, dead-letter
     * hand-off); and one per message recovered from a journal (at start, or claimed from a dead
     * instance), whose last write's outcome is unknown. Each is published again with the same id, so
     * the extra copies consumers can see never outnumber it. Writes the broker answered (confirmed,
     * nacked, returned) never count.
     */
    readonly redelivered: number;
    /**
     * Messages the alternate exchange caught (`topology.unroutable` option) and ferry took back: each was
     * confirmed into the unroutable queue, then accepted again (counted in `accepted` once more) and
     * retried like a returned message (each catch uses up an attempt).
     */
    readonly unroutable: number;
    /** What the journal still owns. */
    readonly journalPending: number;
  };
  /** Whether the journal is open, and why not while it is retrying. */
  readonly journal: JournalStatus;
}

/** The supervisor's state in a few fields, as `state$` emits it: changes only when one of these does. */
export interface SupervisorSummary {
  readonly state: ProducerStatus['state'];
  readonly connection: ConnectionPhase;
  readonly circuitBreaker: BreakerPhase;
  /** Whether messages are being sent now. */
  readonly sending: boolean;
  readonly retryingActors: number;
  readonly backlog: number;
}

/** Whether two summaries are the same. */
export function sameSummary(a: SupervisorSummary, b: SupervisorSummary): boolean {
  return (
    a.state === b.state &&
    a.connection === b.connection &&
    a.circuitBreaker === b.circuitBreaker &&
    a.sending === b.sending &&
    a.retryingActors === b.retryingActors &&
    a.backlog === b.backlog
  );
}
