/**
 * The hot path: accepted messages go from the outbox onto the confirm channel, and confirms come back
 * through the tracker, with nothing per message but a ring-buffer slot. Every write is tracked with the
 * kind of its owner (see write-owner.ts); what leaves this path (nack, return, confirm timeout, a dead
 * channel) goes to that owner. A dead connection's first publishes come back to the outbox front.
 */
import { ConfirmTracker, type SettleOutcome } from '../amqp/confirm-tracker.js';
import type { BrokerSession, SessionListener } from '../amqp/ports.js';
import { FerryError } from '../errors.js';
import type { Accepted } from './accepted.js';
import { ChannelReopen } from './channel-reopen.js';
import { ConfirmDeadline } from './confirm-deadline.js';
import { ownersByKind, Requeue } from './first-publish-owners.js';
import type { Outbox } from './outbox.js';
import type { PublisherDependencies, PublisherSettings } from './publisher-ports.js';
import { SizeLimit, tooLarge } from './size-limit.js';
import { outcomeFailure, WRITE, type WriteKind, type WriteOwner } from './write-owner.js';

/** `basic.return`'s reply code for a message no binding routed. */
const NO_ROUTE = 312;

/**
 * Owns the current session's confirm channel and its tracker.
 *
 * @internal
 */
export class Publisher implements SessionListener {
  private session: BrokerSession | null = null;
  private tracker: ConfirmTracker<Accepted> | null = null;
  private writable = true;
  private readonly reopen = new ChannelReopen();
  /** Connected, not blocked, breaker closed, producer not closed (see breaker-feed.ts). */
  private gateOpen = false;
  /** Half-open breaker: one buffered message may go through as the probe. */
  private probeAllowed = false;
  private readonly deadline: ConfirmDeadline;
  /** The broker's max message size, once a 406 named it: larger messages are refused before writing. */
  private readonly sizeLimit: SizeLimit;
  /** The owner of each kind of write, indexed by {@link WRITE}. */
  private readonly owners: readonly WriteOwner[];
  /** First publishes of a dead channel or connection, on their way back to the outbox front. */
  private readonly requeue = new Requeue();
  private readonly settleVisitor = (accepted: Accepted, outcome: SettleOutcome, _tag: number, kind: number) =>
    this.settle(accepted, outcome, kind);

  constructor(
    private readonly dependencies: PublisherDependencies,
    private readonly settings: PublisherSettings,
  ) {
    this.sizeLimit = new SizeLimit(settings.sizeRecheckMs, settings.now);
    this.deadline = new ConfirmDeadline({
      timeoutMs: settings.confirmTimeoutMs,
      now: settings.now,
      expire: (clock) => this.expire(clock),
    });
    this.owners = ownersByKind(dependencies.owners, dependencies.breaker, this.requeue);
  }

  /** The written, unconfirmed message with this id, if any. */
  inFlightWith(messageId: string): Accepted | undefined {
    return this.tracker?.findByMessageId(messageId);
  }

  /** Messages written and not yet confirmed. */
  get inFlight(): number {
    return this.tracker?.size ?? 0;
  }

  /** Whether a channel is attached and ready for writes. */
  get hasChannel(): boolean {
    return this.session !== null && this.tracker !== null && this.reopen.pending === null;
  }

  /** The session, for the connection machine's health check and graceful close. */
  get current(): BrokerSession | null {
    return this.session;
  }

  /** Takes a freshly connected session (topology declared). */
  attach(session: BrokerSession): void {
    this.session = session;
    this.tracker = this.newTracker();
    this.writable = true;
    this.reopen.finish();
    this.pump();
  }

  /** Gives up the current session: destroys it and takes its unconfirmed messages back. */
  detach(failure: FerryError): void {
    const session = this.session;
    if (session === null) return;
    this.session = null;
    session.destroy();
    this.takeBack(failure);
  }

  /** Lets go of the session for a graceful close; its owner closes it. Unconfirmed messages come back. */
  detachGracefully(): void {
    if (this.session === null) return;
    this.session = null;
    this.takeBack(new FerryError('CONNECTION_LOST', 'the connection is closing'));
  }

  /** Sets the gate (computed by the breaker feed) and sends what it now may. */
  setGate(open: boolean, probeAllowed: boolean): void {
    this.gateOpen = open;
    this.probeAllowed = probeAllowed;
    this.pump();
  }

  /** Whether a message accepted now can go straight onto the channel. */
  canSendNow(): boolean {
    return this.gateOpen && this.writable && this.outbox.length === 0 && this.hasChannel && this.windowOpen();
  }

  /** Writes a first publish now; the caller checked {@link canSendNow}. */
  sendNow(accepted: Accepted): void {
    this.writeFirst(accepted, WRITE.healthy);
  }

  /** Sends buffered messages while the gate, the window and the socket allow. */
  pump(): void {
    if (!this.writable || !this.hasChannel) return;
    const { outbox } = this;
    if (!this.gateOpen) {
      if (this.probeAllowed && outbox.length > 0) {
        this.probeAllowed = false;
        this.writeFirst(outbox.shift() as Accepted, WRITE.probe);
        this.dependencies.breaker.probeSent();
      }
      return;
    }
    while (this.writable && outbox.length > 0 && this.windowOpen()) {
      this.writeFirst(outbox.shift() as Accepted, WRITE.healthy);
    }
  }

  /**
   * Writes a message for its actor: a retry, or with `headers` its dead-letter hand-off. Its outcome
   * goes to that kind's owner. Throws when it cannot be written: `CONNECTION_LOST` when there is no
   * usable channel (the actor waits for the gate again, using up no attempt), or the write's error.
   *
   * While the channel is being reopened it waits instead (the returned promise; see channel-reopen.ts).
   */
  publishFor(
    accepted: Accepted,
    kind: typeof WRITE.retry | typeof WRITE.deadLetter,
    headers?: Readonly<Record<string, unknown>>,
  ): Promise<void> | undefined {
    const reopening = this.reopen.pending;
    if (reopening !== null) return reopening.then(() => this.publishFor(accepted, kind, headers));
    if (!this.hasChannel)
      throw new FerryError('CONNECTION_LOST', 'no usable channel; waiting for the connection');
    const refusal =
      accepted.bytes > this.sizeLimit.bytes ? this.sizeLimit.refusal(accepted.bytes) : undefined;
    if (refusal !== undefined) throw refusal;
    const exchange = kind === WRITE.deadLetter ? this.settings.deadLetterExchange : accepted.message.exchange;
    const failure = this.write(accepted, kind, exchange, true, headers);
    if (failure !== null) throw failure;
    return undefined;
  }

  // SessionListener: events from the live session.

  ack(tag: number, multiple: boolean): void {
    this.tracker?.ack(tag, multiple, this.settleVisitor);
    this.pump();
  }

  nack(tag: number, multiple: boolean): void {
    this.tracker?.nack(tag, multiple, this.settleVisitor);
    this.pump();
  }

  returned(messageId: string | undefined, replyCode: number): void {
    this.tracker?.markReturned(messageId);
    if (replyCode === NO_ROUTE) this.dependencies.reports.topologyMissing();
  }

  drain(): void {
    this.writable = true;
    this.pump();
  }

  blocked(reason: string): void {
    this.deadline.block();
    this.dependencies.reports.connectionEvent({ type: 'connection.blocked', reason });
  }

  unblocked(): void {
    this.deadline.unblock(this.tracker?.nextDeadline());
    this.dependencies.reports.connectionEvent({ type: 'connection.unblocked' });
  }

  channelClosed(error: FerryError): void {
    const session = this.session;
    if (session === null) return;
    this.reopen.begin();
    const lost = this.tracker;
    this.tracker = null;
    const sizeLimit = this.sizeLimit.learn(error);
    if (sizeLimit === undefined || lost === null) {
      lost?.drain(this.settleVisitor);
      this.dependencies.breaker.outcome(error);
    } else {
      this.settleSizeRefusal(lost, sizeLimit, error);
    }
    // A 404 names a missing exchange: declared again first, the reopened channel's publishes route.
    const repaired = error.code === 'NOT_FOUND' ? this.dependencies.reports.topologyMissing() : undefined;
    const reopened =
      repaired === undefined ? session.reopenChannel() : repaired.then(() => session.reopenChannel());
    reopened.then(
      () => {
        if (this.session !== session) return;
        this.tracker = this.newTracker();
        this.writable = true;
        this.reopen.finish();
        this.pump();
      },
      (reopenError: unknown) => {
        if (this.session !== session) return;
        const failure = FerryError.from(reopenError, 'CHANNEL_LOST');
        this.detach(failure);
        this.dependencies.reports.connectionEvent({ type: 'connection.lost', failure });
      },
    );
  }

  connectionClosed(error: FerryError): void {
    if (this.session === null) return;
    this.session = null;
    this.takeBack(error);
    this.dependencies.reports.connectionEvent({ type: 'connection.lost', failure: error });
  }

  /** Stops the confirm timer; called on close. */
  stop(): void {
    this.deadline.stop();
  }

  private get outbox(): Outbox<Accepted> {
    return this.dependencies.outbox;
  }

  private newTracker(): ConfirmTracker<Accepted> {
    return new ConfirmTracker<Accepted>({
      messageId: (accepted) => accepted.messageId,
      initialCapacity: this.settings.maxInFlight,
    });
  }

  private windowOpen(): boolean {
    return (this.tracker?.size ?? 0) < this.settings.maxInFlight;
  }

  /** A first publish (or the probe): refused by the learned size limit, written, or handed back. */
  private writeFirst(accepted: Accepted, kind: typeof WRITE.healthy | typeof WRITE.probe): void {
    const owner = this.owners[kind] as WriteOwner;
    if (accepted.bytes > this.sizeLimit.bytes) {
      const refusal = this.sizeLimit.refusal(accepted.bytes);
      if (refusal !== undefined) {
        owner.refused(accepted, refusal);
        return;
      }
    }
    const { unroutableCaught } = this.settings;
    const { exchange } = accepted.message;
    const mandatory = kind !== WRITE.healthy || unroutableCaught === null || !unroutableCaught(exchange);
    const failure = this.write(accepted, kind, exchange, mandatory, undefined);
    if (failure === null) return;
    // A permanent error (the client cannot encode this message) concerns this message only; otherwise
    // the channel is going away and the message waits for the next one.
    if (failure.permanent) owner.refused(accepted, failure);
    else {
      owner.lost(accepted, failure);
      this.flushRequeue();
    }
  }

  /** Writes and tracks; returns the error when nothing was sent (no delivery tag used), else `null`. */
  private write(
    accepted: Accepted,
    kind: WriteKind,
    exchange: string,
    mandatory: boolean,
    extraHeaders: Readonly<Record<string, unknown>> | undefined,
  ): FerryError | null {
    const session = this.session as BrokerSession;
    const tracker = this.tracker as ConfirmTracker<Accepted>;
    const { message } = accepted;
    const properties =
      extraHeaders === undefined
        ? message.properties
        : { ...message.properties, headers: { ...message.properties.headers, ...extraHeaders } };
    try {
      this.writable = session.publish(exchange, message.routingKey, message.content, properties, mandatory);
    } catch (error) {
      const failure = FerryError.from(error, 'CHANNEL_LOST');
      if (!failure.permanent) this.writable = false;
      return failure;
    }
    // Track after a successful write: the tracker's tags must follow the channel's exactly.
    const now = this.settings.now();
    accepted.writtenAt = now;
    tracker.track(accepted, this.deadline.deadlineFor(now), kind);
    return null;
  }

  /**
   * The channel closed for a message over the broker's size limit (406, which names no message): those
   * over the limit fail for good. The others did nothing wrong: first publishes go back to the outbox
   * front without using an attempt, and the close does not count against the breaker; an actor's write
   * fails as `CHANNEL_LOST` as for any close (its machine cannot tell). When none is over the limit, the
   * refused message is not known, and the close is handled like any other.
   */
  private settleSizeRefusal(lost: ConfirmTracker<Accepted>, limit: number, error: FerryError): void {
    const entries: Accepted[] = [];
    const outcomes: SettleOutcome[] = [];
    const kinds: number[] = [];
    lost.drain((accepted, outcome, _tag, kind) => {
      entries.push(accepted);
      outcomes.push(outcome);
      kinds.push(kind);
    });
    const refusedKnown = entries.some((accepted) => accepted.bytes > limit);
    for (let i = 0; i < entries.length; i += 1) {
      const accepted = entries[i] as Accepted;
      const outcome = outcomes[i] as SettleOutcome;
      const kind = kinds[i] as number;
      const owner = this.owners[kind] as WriteOwner;
      if (accepted.bytes > limit) {
        this.dependencies.reports.answered(accepted, outcome);
        owner.refused(
          accepted,
          tooLarge(accepted.bytes, limit, 'the broker refused it and closed the channel'),
        );
      } else if (refusedKnown && outcome === 'channel-lost' && kind <= WRITE.probe) {
        this.dependencies.reports.answered(accepted, outcome);
        this.dependencies.reports.outcomeUnknown(accepted, outcome);
        owner.lost(accepted, error);
      } else {
        this.settle(accepted, outcome, kind);
      }
    }
    if (refusedKnown) this.flushRequeue();
    else this.dependencies.breaker.outcome(error);
  }

  /** The confirm deadline passed for the oldest writes: they settle as `confirm-timeout`. */
  private expire(clock: number): number | undefined {
    const tracker = this.tracker;
    if (tracker === null) return undefined;
    tracker.expire(clock, this.settleVisitor);
    const next = tracker.nextDeadline();
    this.pump();
    return next;
  }

  /** Unconfirmed messages of a dead connection go to their owners; first publishes to the outbox front. */
  private takeBack(failure: FerryError): void {
    const tracker = this.tracker;
    this.tracker = null;
    // A block belongs to its connection; the next one starts unblocked.
    this.deadline.unblock(undefined);
    this.reopen.finish();
    if (tracker === null) return;
    tracker.drain((accepted, outcome, _tag, kind) => {
      // A returned message went nowhere: only the others may be at the broker already.
      if (outcome === 'channel-lost') this.dependencies.reports.outcomeUnknown(accepted, 'connection-lost');
      (this.owners[kind] as WriteOwner).lost(accepted, failure);
    });
    this.flushRequeue();
  }

  /** First publishes handed back go to the outbox front in their order; a lost probe fails the probe. */
  private flushRequeue(): void {
    const probeLost = this.requeue.flushInto(this.outbox);
    if (probeLost !== null) this.dependencies.breaker.outcome(probeLost);
  }

  private settle(accepted: Accepted, outcome: SettleOutcome, kind: number): void {
    this.dependencies.reports.answered(accepted, outcome);
    const owner = this.owners[kind] as WriteOwner;
    if (outcome === 'confirmed') {
      if (accepted.bytes > this.sizeLimit.bytes) this.sizeLimit.raised();
      this.dependencies.breaker.outcome(null);
      owner.confirmed(accepted);
      return;
    }
    if (outcome === 'confirm-timeout' || outcome === 'channel-lost')
      this.dependencies.reports.outcomeUnknown(accepted, outcome);
    const failure = outcomeFailure(outcome, accepted.messageId);
    // A return is a routing problem, not a sick broker: it does not count against the breaker.
    if (outcome !== 'returned' && outcome !== 'channel-lost') this.dependencies.breaker.outcome(failure);
    owner.failed(accepted, failure);
  }
}
