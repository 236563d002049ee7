/**
 * The producer's status, projected from the supervisor's state and the runtime's counts: the
 * connection, the breaker and the messages at one moment. `state$` emits the summary part of it.
 */
import type { BreakerContext } from '../../machines/breaker.machine.js';
import type { ConnectionContext } from '../../machines/connection.machine.js';
import type { BreakerPhase, ConnectionPhase } from '../../machines/phases.js';
import type { SupervisorContext } from '../../machines/supervisor.machine.js';
import { type FerryErrorCode, ferryErrorCode } from '../errors.js';
import type { JournalStatus } from '../journal/journal.js';
import type { LedgerCounts } from './ledger.js';

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
     * come within `confirmTimeoutMs`, whatever the write was (first publish, retry, dead-letter
     * hand-off); and one per message recovered from a journal (at start, or claimed from a dead
     * instance), whose last write's outcome is unknown. Each is published again with the same id, so
     * the extra copies consumers can see never outnumber it. Writes the broker answered (confirmed,
     * nacked, returned) never count.
     */
    readonly redelivered: number;
    /**
     * Messages the alternate exchange caught (`unroutable` option) and ferry took back: each was
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

/** What {@link projectStatus} reads. */
export interface StatusSources {
  readonly state: ProducerStatus['state'];
  readonly supervisor: SupervisorContext;
  readonly connection: ConnectionContext | null;
  readonly breaker: BreakerContext | null;
  readonly counts: Readonly<LedgerCounts>;
  /** Messages held by the runtime now. */
  readonly held: {
    readonly buffered: number;
    readonly bufferedBytes: number;
    readonly inFlight: number;
    readonly parked: number;
    readonly parkedReason: FailureSummary | null;
    readonly journalPending: number;
  };
  readonly journal: JournalStatus;
}

/** The status at one moment. */
export function projectStatus(sources: StatusSources): ProducerStatus {
  const { supervisor: context, connection, breaker, counts, held } = sources;
  const connected = context.connectionPhase === 'connected' || context.connectionPhase === 'blocked';
  return {
    state: sources.state,
    healthy: sources.state === 'running' && connected && context.breakerPhase !== 'open' && held.parked === 0,
    connection: {
      phase: context.connectionPhase,
      connected,
      endpoint: connection?.endpoint ?? null,
      attempts: connection?.attempts ?? 0,
      reconnects: Math.max(0, (connection?.connects ?? 0) - 1),
      blockedReason: connection?.blockedReason ?? null,
      healthCheckFailures: connection?.healthCheckFailures ?? 0,
      lastError: connection?.lastFailure == null ? null : summarizeFailure(connection.lastFailure),
    },
    circuitBreaker: {
      state: context.breakerPhase,
      isOpen: context.breakerPhase === 'open',
      consecutiveFailures: breaker?.consecutiveFailures ?? 0,
      trips: breaker?.trips ?? 0,
    },
    messages: {
      accepted: counts.accepted,
      confirmed: counts.confirmed,
      deadLettered: counts.deadLettered,
      buffered: held.buffered,
      bufferedBytes: held.bufferedBytes,
      inFlight: held.inFlight,
      retrying: context.liveMessages + context.backlog - held.parked,
      parked: held.parked,
      parkedReason: held.parkedReason,
      redelivered: counts.redelivered,
      unroutable: counts.unroutable,
      journalPending: held.journalPending,
    },
    journal: sources.journal,
  };
}

/** The summary `state$` emits. */
export function summarize(state: ProducerStatus['state'], context: SupervisorContext): SupervisorSummary {
  return {
    state,
    connection: context.connectionPhase,
    circuitBreaker: context.breakerPhase,
    sending: context.gateOpen,
    retryingActors: context.liveMessages,
    backlog: context.backlog,
  };
}
