/**
 * Messages off the healthy path: the only owner of their records and of the backlog of tickets waiting
 * for a message actor. A message comes here when its first publish failed (or the alternate exchange
 * caught it, or it was recovered retrying); its actor decides what happens next, and this module does
 * the actor's effects: its writes (retries and the dead-letter hand-off, whose confirms come back as
 * actor events or, for the hand-off, settle the effect), its journal entries, and its outcome.
 *
 * The attempt count lives in the actor's context alone; tickets carry it in.
 *
 * @internal
 */
import { toFailure } from '../../machines/failure.js';
import type { MessageContext, MessageEffectInput, MessageOutput } from '../../machines/message.machine.js';
import type { RetryTicket, SupervisorEvent } from '../../machines/supervisor.machine.js';
import { Deque } from '../deque.js';
import { FerryError } from '../errors.js';
import type { Journal } from '../journal/journal.js';
import { failedEvent, parkedEvent, retryScheduledEvent } from '../journal/message-events.js';
import type { Accepted } from './accepted.js';
import { deadLetterHeaders } from './dead-letter-headers.js';
import type { Ledger } from './ledger.js';
import type { Publisher } from './publisher.js';
import { type FailureSummary, summarizeFailure } from './status.js';
import { type ActorWriteOwners, WRITE } from './write-owner.js';

/** What {@link Retries} works with. */
export interface RetriesDependencies {
  /** Sends to the supervisor, which routes to message actors. */
  readonly send: (event: SupervisorEvent) => void;
  /** The hot path the actors' writes go through; read when they write. */
  readonly publisher: () => Publisher;
  readonly journal: Journal;
  readonly ledger: Ledger;
}

/** Callbacks of a dead-letter hand-off waiting for its confirm. */
interface Pending {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Records, backlog and actor effects of retrying messages.
 *
 * @internal
 */
export class Retries {
  private readonly records = new Map<string, Accepted>();
  private readonly backlog = new Deque<RetryTicket>();
  /** Dead-letter hand-offs written and awaiting their confirm, by message id. */
  private readonly handOffs = new Map<string, Pending>();
  /**
   * Messages whose failure was journaled when they were taken over: their actor's first triage is that
   * same failure, and journals nothing.
   */
  private readonly journaled = new Set<string>();
  /** Parked messages (their dead-letter hand-off failed), with why it failed. */
  private readonly parkedReasons = new Map<string, FailureSummary>();
  /** Why each hand-off that failed last did, until its actor parks. */
  private readonly handOffFailures = new Map<string, FailureSummary>();
  /** Owners of the writes made for actors (see write-owner.ts). */
  readonly owners: ActorWriteOwners;

  constructor(private readonly dependencies: RetriesDependencies) {
    const { send } = dependencies;
    const failed = (accepted: Accepted, failure: FerryError): void =>
      send({ type: 'message.failed', messageId: accepted.messageId, failure: toFailure(failure) });
    const handOffFailed = (accepted: Accepted, failure: FerryError): void => {
      const pending = this.handOffs.get(accepted.messageId);
      this.handOffs.delete(accepted.messageId);
      pending?.reject(failure);
    };
    this.owners = {
      retry: {
        confirmed: (accepted) => send({ type: 'message.ack', messageId: accepted.messageId }),
        failed,
        refused: failed,
        lost: failed,
      },
      deadLetter: {
        confirmed: (accepted) => {
          const pending = this.handOffs.get(accepted.messageId);
          this.handOffs.delete(accepted.messageId);
          pending?.resolve();
        },
        failed: handOffFailed,
        refused: handOffFailed,
        lost: handOffFailed,
      },
    };
  }

  /** Messages held here: with a live actor or in the backlog. */
  get size(): number {
    return this.records.size;
  }

  /** How many messages are parked, and why the oldest one's hand-off failed. */
  get parked(): { readonly count: number; readonly reason: FailureSummary | null } {
    const first = this.parkedReasons.values().next();
    return { count: this.parkedReasons.size, reason: first.done === true ? null : first.value };
  }

  /** Whether this message is held here. */
  holds(messageId: string): boolean {
    return this.records.has(messageId);
  }

  /** The records held here, for a close that abandons their receipts. */
  values(): IterableIterator<Accepted> {
    return this.records.values();
  }

  /**
   * A message's first publish failed (or the alternate exchange caught it): journaled once, and handed
   * to a message actor. `attempts` counts the failed one: 1 unless earlier catches used some up.
   */
  takeOver(accepted: Accepted, failure: FerryError, attempts = 1): void {
    const summary = toFailure(failure);
    this.dependencies.journal.append({
      type: 'failed',
      messageId: accepted.messageId,
      attempts,
      failure: summary,
      at: this.dependencies.ledger.now(),
    });
    this.journaled.add(accepted.messageId);
    this.records.set(accepted.messageId, accepted);
    this.dependencies.send({
      type: 'message.retry',
      ticket: { messageId: accepted.messageId, attempts, failure: summary },
    });
  }

  /** A message recovered retrying or parked: its actor resumes from `ticket`. */
  resume(accepted: Accepted, ticket: RetryTicket): void {
    this.records.set(accepted.messageId, accepted);
    this.dependencies.send({ type: 'message.retry', ticket });
  }

  /** `message.publish`: writes a retry; its confirm arrives as an actor event. */
  async publishRetry(input: MessageEffectInput): Promise<void> {
    const accepted = this.record(input);
    const written = this.dependencies.publisher().publishFor(accepted, WRITE.retry);
    // Counted once it did not fail at once for want of a channel: that uses up no attempt.
    this.dependencies.ledger.retried(accepted, input.attempts);
    await written;
  }

  /** `message.deadLetter`: writes the hand-off and resolves on its confirm. */
  deadLetter(input: MessageEffectInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const accepted = this.record(input);
      const { messageId } = accepted;
      this.parkedReasons.delete(messageId);
      const pending: Pending = {
        resolve,
        reject: (error) => {
          const failure = FerryError.from(error);
          const message = `the dead-letter hand-off failed: ${failure.message}`;
          this.handOffFailures.set(messageId, { code: failure.code, message });
          reject(error);
        },
      };
      const failed = (error: unknown): void => {
        if (this.handOffs.get(messageId) === pending) this.handOffs.delete(messageId);
        pending.reject(error);
      };
      this.handOffs.set(messageId, pending);
      const headers = deadLetterHeaders(accepted.message, input, this.dependencies.ledger.now());
      try {
        this.dependencies.publisher().publishFor(accepted, WRITE.deadLetter, headers)?.catch(failed);
      } catch (error) {
        failed(error);
      }
    });
  }

  /** `message.journalFailure`: the actor's triage of a failure. */
  journalFailure(context: MessageContext): void {
    if (this.journaled.delete(context.messageId)) return;
    this.dependencies.journal.append(failedEvent(context, this.dependencies.ledger.now()));
  }

  /** `message.journalRetryScheduled`. */
  journalRetryScheduled(context: MessageContext): void {
    this.dependencies.journal.append(retryScheduledEvent(context, this.dependencies.ledger.now()));
  }

  /** `message.journalParked`. */
  journalParked(context: MessageContext): void {
    const reason = this.handOffFailures.get(context.messageId);
    this.handOffFailures.delete(context.messageId);
    const parked = reason ?? summarizeFailure(context.lastFailure);
    this.parkedReasons.set(context.messageId, parked);
    const accepted = this.records.get(context.messageId);
    if (accepted !== undefined) this.dependencies.ledger.parked(accepted, parked.code);
    this.dependencies.journal.append(parkedEvent(context, this.dependencies.ledger.now()));
  }

  /** `supervisor.holdInBacklog`: every live actor slot is taken. */
  holdInBacklog(ticket: RetryTicket): void {
    this.backlog.push(ticket);
  }

  /** `supervisor.releaseFromBacklog`: a slot freed up. */
  releaseFromBacklog(): void {
    const ticket = this.backlog.shift();
    if (ticket !== undefined) this.dependencies.send({ type: 'message.retry', ticket, fromBacklog: true });
  }

  /** `supervisor.reportOutcome`: the actor finished. */
  reportOutcome(output: MessageOutput): void {
    const accepted = this.records.get(output.messageId);
    this.records.delete(output.messageId);
    this.journaled.delete(output.messageId);
    this.parkedReasons.delete(output.messageId);
    this.handOffFailures.delete(output.messageId);
    if (accepted !== undefined)
      this.dependencies.ledger.finish(accepted, output.outcome, output.lastFailure.code);
  }

  private record(input: MessageEffectInput): Accepted {
    const accepted = this.records.get(input.messageId);
    if (accepted === undefined) {
      throw new FerryError('UNKNOWN', `no record of retrying message ${input.messageId}`);
    }
    return accepted;
  }
}
