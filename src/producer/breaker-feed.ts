/**
 * Everything between the hot path and the breaker, in one place: which broker outcomes the breaker
 * hears (failures at once; successes only while it needs them, coalesced into one event per
 * macrotask), the gate the hot path obeys (computed here from the supervisor's state), and the
 * half-open probe (allowed, written, and counted as failed when it dies with its connection).
 *
 * With retrying messages live, the supervisor offers the probe to one of their actors; this feed lets
 * a buffered first publish be the probe only when there is none.
 *
 * @internal
 */
import { toFailure } from '../../machines/failure.js';
import type { SupervisorEvent } from '../../machines/supervisor.machine.js';
import type { FerryError } from '../errors.js';
import type { SupervisorState } from './machine-effects.js';
import type { BreakerSignals } from './publisher-ports.js';

/** What a {@link BreakerFeed} needs. */
export interface BreakerFeedDependencies {
  /** Sends to the supervisor, which forwards `breaker.*` events to the breaker. */
  readonly send: (event: SupervisorEvent) => void;
  /** The supervisor's state now. */
  readonly view: () => SupervisorState;
  /** Where the gate goes: the hot path's `setGate`. */
  readonly gate: (open: boolean, probeAllowed: boolean) => void;
  /** Wall clock in ms. */
  readonly now: () => number;
}

/**
 * The breaker's feed and the hot path's gate.
 *
 * @internal
 */
export class BreakerFeed implements BreakerSignals {
  private pendingSuccesses = 0;
  private flushScheduled = false;
  /** After a failure, while half-open, or in failure-rate mode: successes matter to the breaker. */
  private countsSuccesses = false;
  /**
   * The probe was written and the breaker has not yet been seen taking it: the supervisor's state right
   * after the write can predate that, and the probe stays the only one until a state without a probe
   * allowance catches up.
   */
  private probeWritten = false;

  constructor(private readonly dependencies: BreakerFeedDependencies) {}

  /** A broker outcome: `null` for a success. */
  outcome(failure: FerryError | null): void {
    if (failure === null) {
      if (!this.countsSuccesses) return;
      this.pendingSuccesses += 1;
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flushSuccesses());
      }
      return;
    }
    this.flushSuccesses();
    this.dependencies.send({
      type: 'breaker.failure',
      at: this.dependencies.now(),
      failure: toFailure(failure),
    });
  }

  /** The hot path wrote the probe. */
  probeSent(): void {
    this.probeWritten = true;
    this.dependencies.send({ type: 'breaker.probe' });
  }

  /**
   * The connection died. A half-open breaker's probe that dies with it has no outcome: counted as a
   * failure, the breaker cools down and probes again instead of waiting for it forever.
   */
  connectionLost(failure: FerryError): void {
    const { context, breaker } = this.dependencies.view();
    if (breaker?.probeTaken === true && context.breakerPhase === 'halfOpen') this.outcome(failure);
  }

  /** The supervisor changed (or the producer closed): recomputes the gate and what the breaker needs. */
  update(closed: boolean): void {
    const { context, breaker } = this.dependencies.view();
    this.countsSuccesses =
      breaker !== null &&
      (breaker.consecutiveFailures > 0 ||
        breaker.settings.failureRate !== null ||
        context.breakerPhase === 'halfOpen');
    const probeAllowed =
      context.breakerPhase === 'halfOpen' &&
      context.connectionPhase === 'connected' &&
      context.liveMessages === 0 &&
      breaker?.probeTaken === false;
    if (!probeAllowed) this.probeWritten = false;
    this.dependencies.gate(context.gateOpen && !closed, probeAllowed && !this.probeWritten);
  }

  private flushSuccesses(): void {
    this.flushScheduled = false;
    if (this.pendingSuccesses === 0) return;
    const count = this.pendingSuccesses;
    this.pendingSuccesses = 0;
    if (this.dependencies.view().active) {
      this.dependencies.send({ type: 'breaker.success', at: this.dependencies.now(), count });
    }
  }
}
