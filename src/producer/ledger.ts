/**
 * The one place a message's outcome is recorded: journaled, counted, told to observers, settled on its
 * receipt, and checked against `flush()` and `close()` waiters. Both ways a message ends (confirmed on
 * its first publish, or finished by its message actor) come through here.
 *
 * @internal
 */
import type { SettleOutcome } from '../amqp/confirm-tracker.js';
import type { Journal } from '../journal/journal.js';
import type { Accepted } from './accepted.js';
import { IdleWaiters } from './idle-waiters.js';
import type { MessageTrace, UnknownCause } from './message-trace.js';
import type { ProducerObserver } from './observer.js';
import type { Settlement } from './receipt.js';

/** Counts since start, as `status().messages` shows them. */
export interface LedgerCounts {
  accepted: number;
  confirmed: number;
  deadLettered: number;
  redelivered: number;
  unroutable: number;
}

/** What a {@link Ledger} needs. */
export interface LedgerDependencies {
  readonly journal: Journal;
  /** Wall clock in ms. */
  readonly now: () => number;
  /** The message tracer (src/tracing/), `null` without OpenTelemetry. */
  readonly trace: MessageTrace | null;
}

/**
 * Outcomes, counts, observers and idle waiters.
 *
 * @internal
 */
export class Ledger {
  readonly counts: LedgerCounts = {
    accepted: 0,
    confirmed: 0,
    deadLettered: 0,
    redelivered: 0,
    unroutable: 0,
  };
  readonly observers: ProducerObserver[] = [];
  /** `flush()` and `close()` waiting for the producer to hold less. */
  readonly idle = new IdleWaiters();

  constructor(private readonly dependencies: LedgerDependencies) {}

  /** Wall clock in ms. */
  now(): number {
    return this.dependencies.now();
  }

  /** Registers an observer; returns the function that removes it. */
  observe(observer: ProducerObserver): () => void {
    this.observers.push(observer);
    return () => {
      const index = this.observers.indexOf(observer);
      if (index >= 0) this.observers.splice(index, 1);
    };
  }

  /** A validated batch about to be journaled: with its trace context in its headers when traced. */
  starting(batch: Accepted[]): Accepted[] {
    const { trace } = this.dependencies;
    return trace === null ? batch : trace.start(batch);
  }

  /** A batch was not accepted after all. */
  refused(batch: readonly Accepted[], failure: { readonly code: string }): void {
    this.dependencies.trace?.refused(batch, failure);
  }

  /** Messages were journaled as accepted. */
  accepted(batch: readonly Accepted[]): void {
    this.counts.accepted += batch.length;
    const { observers } = this;
    if (observers.length === 0) return;
    for (const accepted of batch) {
      for (let i = 0; i < observers.length; i += 1)
        observers[i]?.accepted(accepted.message.routingKey, accepted.bytes);
    }
  }

  /** The broker answered one write made at `writtenAt` (ms), or did not in time. */
  answered(accepted: Accepted, outcome: SettleOutcome, writtenAt: number): void {
    if (outcome !== 'confirmed') this.dependencies.trace?.failed(accepted, outcome);
    const { observers } = this;
    if (observers.length === 0) return;
    const latencyMs = this.now() - writtenAt;
    for (let i = 0; i < observers.length; i += 1) observers[i]?.answered(outcome, latencyMs);
  }

  /** A retry was written; `attempts` counts the failed ones so far. */
  retried(accepted: Accepted, attempts: number): void {
    this.dependencies.trace?.retried(accepted, attempts);
    for (const observer of this.observers) observer.retried();
  }

  /** A connection attempt began. */
  connecting(): void {
    for (const observer of this.observers) observer.connecting();
  }

  /** A written message's outcome became unknown: a possible duplicate. */
  redelivered(accepted: Accepted, cause: UnknownCause): void {
    this.counts.redelivered += 1;
    this.dependencies.trace?.outcomeUnknown(accepted, cause);
  }

  /** A message was recovered from the journal: a possible duplicate. */
  recovered(accepted: Accepted): void {
    this.counts.redelivered += 1;
    this.dependencies.trace?.adopted(accepted, 'journal');
  }

  /** A message the alternate exchange caught was taken back into the journal. */
  caught(accepted: Accepted): void {
    this.counts.accepted += 1;
    this.counts.unroutable += 1;
    this.dependencies.trace?.adopted(accepted, 'alternate-exchange');
  }

  /** A message's dead-letter hand-off failed: it is parked. */
  parked(accepted: Accepted, failureCode: string): void {
    this.dependencies.trace?.parked(accepted, failureCode);
  }

  /** The producer closed; `unsettled`, what it still held, stays journaled. */
  closed(unsettled: Iterable<Accepted>): void {
    this.dependencies.trace?.closed(unsettled);
  }

  /**
   * A message ended: journaled, counted, observed, its receipt settled. `failureCode`: what a
   * dead-lettered message failed with.
   */
  finish(accepted: Accepted, outcome: Settlement, failureCode?: string): void {
    const at = this.now();
    this.dependencies.journal.append(
      outcome === 'confirmed'
        ? { type: 'confirmed', messageId: accepted.messageId, at }
        : { type: 'dead-lettered', messageId: accepted.messageId, at },
    );
    const elapsedMs = at - accepted.message.acceptedAt;
    const { observers } = this;
    for (let i = 0; i < observers.length; i += 1) {
      observers[i]?.settled(accepted.message.routingKey, outcome, elapsedMs, accepted.messageId);
    }
    this.dependencies.trace?.settled(accepted, outcome, elapsedMs, failureCode);
    if (outcome === 'confirmed') this.counts.confirmed += 1;
    else this.counts.deadLettered += 1;
    accepted.settle(outcome);
    this.idle.check();
  }
}
