/**
 * The producer's status projected from the supervisor's state and the runtime's counts (status.ts
 * holds the types).
 *
 * @internal
 */
import type { BreakerContext } from '../../machines/breaker.machine.js';
import type { ConnectionContext } from '../../machines/connection.machine.js';
import type { SupervisorContext } from '../../machines/supervisor.machine.js';
import type { JournalStatus } from '../journal/journal.js';
import type { LedgerCounts } from './ledger.js';
import {
  type FailureSummary,
  type ProducerStatus,
  type SupervisorSummary,
  summarizeFailure,
} from './status.js';

/** What {@link projectStatus} reads. */
export interface StatusSources {
  readonly state: ProducerStatus['state'];
  readonly supervisor: SupervisorContext;
  readonly connection: ConnectionContext | null;
  readonly breaker: BreakerContext | null;
  /** Confirm channels open now. */
  readonly channels: number;
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
      channels: sources.channels,
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
      // Parked messages have live actors while running; once closed the actors are gone and the parked
      // stay journaled (and counted as parked), so the difference stops at 0.
      retrying: Math.max(0, context.liveMessages + context.backlog - held.parked),
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
