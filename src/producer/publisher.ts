/**
 * The hot path: accepted messages go from the outbox onto the confirm channel, and confirms come back
 * through the tracker, with nothing per message but a ring-buffer slot. Only what leaves this path
 * (nack, return, confirm timeout, a dead channel) is handed to the supervisor's machines.
 */
import { FAILURE_CODES } from '../../machines/failure.js';
import { ConfirmTracker, type SettleOutcome } from '../amqp/confirm-tracker.js';
import type { BrokerSession, SessionListener } from '../amqp/ports.js';
import { FerryError } from '../errors.js';
import type { Accepted } from './accepted.js';
import type { Outbox } from './outbox.js';
import { SizeLimit, tooLarge } from './size-limit.js';

/** What the publisher reports upwards; the producer turns these into journal entries and events. */
export interface PublisherHooks {
  /** A healthy-path (or probe) message was confirmed. */
  confirmed(accepted: Accepted): void;
  /** The broker answered one of its writes (or did not in time); for observers, before the others. */
  answered(accepted: Accepted, outcome: SettleOutcome): void;
  /** A healthy-path (or probe) message failed and needs a message actor. */
  failed(accepted: Accepted, failure: FerryError): void;
  /** Outcome of a publish made for a message actor. */
  retrySettled(accepted: Accepted, failure: FerryError | null): void;
  /**
   * A written message's outcome became unknown: its channel or connection died before its confirm, or
   * the confirm did not come in time. The broker may have it, and it will be published again.
   */
  outcomeUnknown(): void;
  /** A broker outcome that the breaker counts: `null` for a success. */
  breakerOutcome(failure: FerryError | null): void;
  /** The half-open breaker's one probe message was written. */
  probeSent(): void;
  /** The connection turned blocked, unblocked or died; forwarded to the connection machine. */
  connectionEvent(event: ConnectionSignal): void;
  /**
   * The broker showed part of the topology missing (an unroutable return, a 404 closing the channel):
   * the re-declaration that answers it (at once, or when the rate limit allows), which the channel's
   * reopen waits for; `undefined` when the user owns the topology.
   */
  topologyMissing(): Promise<void> | undefined;
}

/** `basic.return`'s reply code for a message no binding routed. */
const NO_ROUTE = 312;

/** Connection-level signals from the session. */
export type ConnectionSignal =
  | { readonly type: 'connection.blocked'; readonly reason: string }
  | { readonly type: 'connection.unblocked' }
  | { readonly type: 'connection.lost'; readonly failure: FerryError };

const OUTCOME_CODES = {
  nacked: FAILURE_CODES.nacked,
  returned: FAILURE_CODES.returned,
  'confirm-timeout': FAILURE_CODES.confirmTimeout,
  'channel-lost': FAILURE_CODES.channelLost,
} as const;

const OUTCOME_MESSAGES = {
  nacked: 'the broker refused the message (basic.nack)',
  returned: 'the message was unroutable (basic.return)',
  'confirm-timeout': 'no confirm within the timeout: outcome unknown',
  'channel-lost': 'the channel closed before the message was confirmed: outcome unknown',
} as const;

/**
 * Owns the current session's confirm channel, its tracker and the one confirm-timeout timer.
 *
 * @internal
 */
export class Publisher implements SessionListener {
  private session: BrokerSession | null = null;
  private tracker: ConfirmTracker<Accepted> | null = null;
  private writable = true;
  private reopening = false;
  /** While the channel is being reopened: settles when it is back, or given up with its connection. */
  private reopened: Promise<void> | null = null;
  private endReopen: (() => void) | null = null;
  /** Set from the supervisor's snapshots: connected, not blocked, breaker closed. */
  private gateOpen = false;
  /** Half-open breaker: one message may go through as the probe. */
  private probeAllowed = false;
  /** The probe was written and the supervisor has not yet reported it taken. */
  private probeWritten = false;
  private timer: NodeJS.Timeout | undefined;
  private timerDeadline = Number.POSITIVE_INFINITY;
  /**
   * Confirm deadlines run on a clock that stops while the broker blocks the connection: a blocked
   * broker reads nothing, so no confirm is late, and timing out every message on the wire would only
   * republish them all (duplicates) and trip the breaker. Time spent blocked in earlier blocks:
   */
  private blockedMs = 0;
  /** When the current block began, or `null`. */
  private blockedSince: number | null = null;
  private readonly settleVisitor = (accepted: Accepted, outcome: SettleOutcome): void =>
    this.settle(accepted, outcome);
  /** The broker's max message size, once a 406 named it: larger messages are refused before writing. */
  private readonly sizeLimit: SizeLimit;

  constructor(
    private readonly outbox: Outbox<Accepted>,
    private readonly hooks: PublisherHooks,
    private readonly settings: {
      readonly maxInFlight: number;
      readonly confirmTimeoutMs: number;
      readonly deadLetterExchange: string;
      readonly now: () => number;
      /** How often one message over the learned size limit is written anyway, to find it raised. */
      readonly sizeRecheckMs: number;
      /**
       * Whether an unroutable message to this exchange would be caught by a proven alternate exchange,
       * so a first publish may leave `mandatory` off. Retries, probes and dead-letter hand-offs always
       * set it: a caught retry would come back as a new message and never use up its attempts.
       */
      readonly unroutableCaught: ((exchange: string) => boolean) | null;
    },
  ) {
    this.sizeLimit = new SizeLimit(settings.sizeRecheckMs, settings.now);
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
    return this.session !== null && this.tracker !== null && !this.reopening;
  }

  /** Takes a freshly connected session (topology declared). */
  attach(session: BrokerSession): void {
    this.session = session;
    this.tracker = this.newTracker();
    this.writable = true;
    this.finishReopen();
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

  /** The session, for the connection machine's health check and graceful close. */
  get current(): BrokerSession | null {
    return this.session;
  }

  /** Updates the gate from the supervisor and sends what it now may. */
  setGate(open: boolean, probeAllowed: boolean): void {
    this.gateOpen = open;
    // The supervisor's snapshot right after the probe was written can predate the breaker taking it;
    // the probe stays the only one until a snapshot without a probe allowance catches up.
    if (!probeAllowed) this.probeWritten = false;
    this.probeAllowed = probeAllowed && !this.probeWritten;
    this.pump();
  }

  /** Whether a message accepted now can go straight onto the channel. */
  canSendNow(): boolean {
    return this.gateOpen && this.writable && this.outbox.length === 0 && this.hasChannel && this.windowOpen();
  }

  /** Writes a healthy-path message now; the caller checked {@link canSendNow}. */
  sendNow(accepted: Accepted): void {
    this.write(accepted, 'healthy', accepted.message.exchange);
  }

  /** Sends buffered messages while the gate, the window and the socket allow. */
  pump(): void {
    if (!this.writable || !this.hasChannel) return;
    if (!this.gateOpen) {
      if (this.probeAllowed && this.outbox.length > 0) {
        this.probeAllowed = false;
        this.probeWritten = true;
        this.write(this.outbox.shift() as Accepted, 'probe', undefined);
        this.hooks.probeSent();
      }
      return;
    }
    while (this.writable && this.outbox.length > 0 && this.windowOpen()) {
      this.write(this.outbox.shift() as Accepted, 'healthy', undefined);
    }
  }

  /**
   * Publishes for a message actor. Throws `CONNECTION_LOST` when there is no usable channel, which sends
   * the actor back to waiting for the gate without using up an attempt, or the write's own error.
   *
   * While the channel is being reopened it waits for it instead: the connection lives, so the gate stays
   * open, and failing at once would send the actor straight back here in a loop of microtasks that
   * starves the very I/O that reopens the channel.
   */
  publishRetry(accepted: Accepted): Promise<void> | undefined {
    if (this.reopened !== null) return this.reopened.then(() => this.publishRetry(accepted));
    if (!this.hasChannel)
      throw new FerryError('CONNECTION_LOST', 'no usable channel; waiting for the connection');
    this.write(accepted, 'retry', undefined);
    return undefined;
  }

  /** Publishes to the dead-letter exchange and resolves on its confirm; waits for a reopening channel. */
  publishDeadLetter(accepted: Accepted, headers: Readonly<Record<string, unknown>>): Promise<void> {
    if (this.reopened !== null) return this.reopened.then(() => this.publishDeadLetter(accepted, headers));
    if (!this.hasChannel) {
      return Promise.reject(
        new FerryError('CONNECTION_LOST', 'no usable channel for the dead-letter hand-off'),
      );
    }
    return new Promise((resolve, reject) => {
      accepted.deadLetter = { resolve, reject };
      this.write(accepted, 'dead-letter', this.settings.deadLetterExchange, headers);
    });
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
    if (replyCode === NO_ROUTE) this.hooks.topologyMissing();
  }

  drain(): void {
    this.writable = true;
    this.pump();
  }

  blocked(reason: string): void {
    this.blockedSince ??= this.settings.now();
    this.hooks.connectionEvent({ type: 'connection.blocked', reason });
  }

  unblocked(): void {
    this.resumeConfirmClock();
    this.hooks.connectionEvent({ type: 'connection.unblocked' });
  }

  channelClosed(error: FerryError): void {
    const session = this.session;
    if (session === null) return;
    this.reopening = true;
    this.reopened ??= new Promise((resolve) => {
      this.endReopen = resolve;
    });
    const lost = this.tracker;
    this.tracker = null;
    const sizeLimit = this.sizeLimit.learn(error);
    if (sizeLimit === undefined || lost === null) {
      lost?.drain(this.settleVisitor);
      this.hooks.breakerOutcome(error);
    } else {
      this.settleSizeRefusal(lost, sizeLimit, error);
    }
    // A 404 names a missing exchange: declared again first, the reopened channel's publishes route.
    const repaired = error.code === 'NOT_FOUND' ? this.hooks.topologyMissing() : undefined;
    const reopen =
      repaired === undefined ? session.reopenChannel() : repaired.then(() => session.reopenChannel());
    reopen.then(
      () => {
        if (this.session !== session) return;
        this.tracker = this.newTracker();
        this.writable = true;
        this.finishReopen();
        this.pump();
      },
      (reopenError: unknown) => {
        if (this.session !== session) return;
        const failure = FerryError.from(reopenError, 'CHANNEL_LOST');
        this.detach(failure);
        this.hooks.connectionEvent({ type: 'connection.lost', failure });
      },
    );
  }

  connectionClosed(error: FerryError): void {
    if (this.session === null) return;
    this.session = null;
    this.takeBack(error);
    this.hooks.connectionEvent({ type: 'connection.lost', failure: error });
  }

  /** Stops the confirm timer; called on close. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private newTracker(): ConfirmTracker<Accepted> {
    return new ConfirmTracker<Accepted>({
      messageId: (accepted) => accepted.messageId,
      initialCapacity: this.settings.maxInFlight,
    });
  }

  /** The channel is back, or no longer expected: publishes waiting for it go ahead (or fail). */
  private finishReopen(): void {
    const end = this.endReopen;
    this.reopening = false;
    this.reopened = null;
    this.endReopen = null;
    end?.();
  }

  private windowOpen(): boolean {
    return (this.tracker?.size ?? 0) < this.settings.maxInFlight;
  }

  private write(
    accepted: Accepted,
    route: Accepted['route'],
    exchange: string | undefined,
    extraHeaders?: Readonly<Record<string, unknown>>,
  ): void {
    if (accepted.bytes > this.sizeLimit.bytes && this.refusedForSize(accepted, route)) return;
    const session = this.session as BrokerSession;
    const tracker = this.tracker as ConfirmTracker<Accepted>;
    const { message } = accepted;
    const properties =
      extraHeaders === undefined
        ? message.properties
        : { ...message.properties, headers: { ...message.properties.headers, ...extraHeaders } };
    accepted.route = route;
    const target = exchange ?? message.exchange;
    const { unroutableCaught } = this.settings;
    const mandatory = route !== 'healthy' || unroutableCaught === null || !unroutableCaught(target);
    try {
      this.writable = session.publish(target, message.routingKey, message.content, properties, mandatory);
    } catch (error) {
      // Nothing was sent and no delivery tag used. A permanent error (the client cannot encode this
      // message) concerns this message only: the channel is fine and the rest goes on. Otherwise the
      // channel is going away, its close event follows, and the message goes the unconfirmed ones' way.
      const failure = FerryError.from(error, 'CHANNEL_LOST');
      if (!failure.permanent) this.writable = false;
      if (route === 'retry') throw failure;
      if (failure.permanent) this.refuse(accepted, failure);
      else this.takeBackOne(accepted, failure);
      return;
    }
    // Track after a successful write: the tracker's tags must follow the channel's exactly.
    const now = this.settings.now();
    accepted.writtenAt = now;
    const deadline = this.confirmClock(now) + this.settings.confirmTimeoutMs;
    tracker.track(accepted, deadline);
    if (deadline < this.timerDeadline) this.armTimer(deadline);
  }

  /** Refuses a message over the learned size limit, unless it is written as the limit's re-check. */
  private refusedForSize(accepted: Accepted, route: Accepted['route']): boolean {
    const failure = this.sizeLimit.refusal(accepted.bytes);
    if (failure === undefined) return false;
    accepted.route = route;
    // As for a message the client cannot encode: an actor's retry learns it from the throw.
    if (route === 'retry') throw failure;
    this.refuse(accepted, failure);
    return true;
  }

  /**
   * The channel closed for a message over the broker's size limit (406, which names no message): those
   * over the limit fail for good. The others did nothing wrong: healthy ones go back to the outbox front
   * without using an attempt, and the close does not count against the breaker; an actor's retry or
   * dead-letter hand-off fails as `CHANNEL_LOST` as for any close (its machine cannot tell). When none
   * is over the limit, the refused message is not known, and the close is handled like any other.
   */
  private settleSizeRefusal(lost: ConfirmTracker<Accepted>, limit: number, error: FerryError): void {
    const entries: Accepted[] = [];
    const outcomes: SettleOutcome[] = [];
    lost.drain((accepted, outcome) => {
      entries.push(accepted);
      outcomes.push(outcome);
    });
    const refusedKnown = entries.some((accepted) => accepted.bytes > limit);
    const requeue: Accepted[] = [];
    for (let i = 0; i < entries.length; i += 1) {
      const accepted = entries[i] as Accepted;
      const outcome = outcomes[i] as SettleOutcome;
      const healthy = accepted.route === 'healthy' || accepted.route === 'probe';
      if (accepted.bytes > limit) {
        this.hooks.answered(accepted, outcome);
        const failure = tooLarge(accepted.bytes, limit, 'the broker refused it and closed the channel');
        if (accepted.route === 'retry') this.settleOther(accepted, failure);
        else this.refuse(accepted, failure);
      } else if (refusedKnown && outcome === 'channel-lost' && healthy) {
        this.hooks.answered(accepted, outcome);
        this.hooks.outcomeUnknown();
        requeue.push(accepted);
      } else {
        this.settle(accepted, outcome);
      }
    }
    if (refusedKnown) this.requeueFront(requeue, error);
    else this.hooks.breakerOutcome(error);
  }

  /** Wall time minus the time spent blocked: the clock confirm deadlines are set and checked on. */
  private confirmClock(now = this.settings.now()): number {
    return now - this.blockedMs - (this.blockedSince === null ? 0 : now - this.blockedSince);
  }

  /** Ends a block: the confirm clock runs again and the timer is re-armed for the oldest deadline. */
  private resumeConfirmClock(): void {
    if (this.blockedSince === null) return;
    this.blockedMs += this.settings.now() - this.blockedSince;
    this.blockedSince = null;
    const next = this.tracker?.nextDeadline();
    if (next !== undefined) this.armTimer(next);
  }

  private armTimer(deadline: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerDeadline = deadline;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, deadline - this.confirmClock()));
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerDeadline = Number.POSITIVE_INFINITY;
    const tracker = this.tracker;
    if (tracker === null) return;
    // Blocked: nothing expires; `unblocked` re-arms the timer.
    if (this.blockedSince !== null) return;
    tracker.expire(this.confirmClock(), this.settleVisitor);
    const next = tracker.nextDeadline();
    if (next !== undefined) this.armTimer(next);
    this.pump();
  }

  /** Unconfirmed messages of a dead connection: healthy ones go back to the front of the outbox. */
  private takeBack(failure: FerryError): void {
    const tracker = this.tracker;
    this.tracker = null;
    // A block belongs to its connection; the next one starts unblocked.
    this.resumeConfirmClock();
    this.finishReopen();
    if (tracker === null) return;
    const requeue: Accepted[] = [];
    tracker.drain((accepted, outcome) => {
      // A returned message went nowhere: only the others may be at the broker already.
      if (outcome === 'channel-lost') this.hooks.outcomeUnknown();
      if (accepted.route === 'healthy' || accepted.route === 'probe') requeue.push(accepted);
      else this.settleOther(accepted, failure);
    });
    this.requeueFront(requeue, failure);
  }

  /**
   * Healthy-path messages of a dead channel go back to the outbox front, in their order. A probe among
   * them fails the breaker's probe: it would otherwise wait for that outcome forever.
   */
  private requeueFront(requeue: readonly Accepted[], failure: FerryError): void {
    for (let i = requeue.length - 1; i >= 0; i -= 1) this.outbox.unshift(requeue[i] as Accepted);
    if (requeue.some((accepted) => accepted.route === 'probe')) this.probeFailed(failure);
  }

  /** A message whose write threw: back to the outbox front, or to its actor or dead-letter caller. */
  private takeBackOne(accepted: Accepted, failure: FerryError): void {
    if (accepted.route === 'healthy' || accepted.route === 'probe') this.outbox.unshift(accepted);
    else this.settleOther(accepted, failure);
    if (accepted.route === 'probe') this.probeFailed(failure);
  }

  /** A message the client refused to send, for good: its actor dead-letters or parks it. */
  private refuse(accepted: Accepted, failure: FerryError): void {
    if (accepted.route === 'dead-letter') {
      this.settleOther(accepted, failure);
      return;
    }
    this.hooks.failed(accepted, failure);
    if (accepted.route === 'probe') this.probeFailed(failure);
  }

  /**
   * The half-open breaker's probe went back to the outbox unanswered. Without an outcome the breaker
   * would wait for it forever (it lets no second probe through); counted as a failure, it opens again
   * and probes anew after its cooldown.
   */
  private probeFailed(failure: FerryError): void {
    this.hooks.breakerOutcome(failure);
  }

  private settle(accepted: Accepted, outcome: SettleOutcome): void {
    this.hooks.answered(accepted, outcome);
    if (outcome === 'confirmed') {
      if (accepted.bytes > this.sizeLimit.bytes) this.sizeLimit.raised();
      this.hooks.breakerOutcome(null);
      if (accepted.route === 'dead-letter') {
        const settle = accepted.deadLetter;
        accepted.deadLetter = undefined;
        settle?.resolve();
        return;
      }
      if (accepted.route === 'retry') this.hooks.retrySettled(accepted, null);
      else this.hooks.confirmed(accepted);
      return;
    }
    if (outcome === 'confirm-timeout' || outcome === 'channel-lost') this.hooks.outcomeUnknown();
    const failure = new FerryError(OUTCOME_CODES[outcome], OUTCOME_MESSAGES[outcome], {
      details: { messageId: accepted.messageId },
    });
    // A return is a routing problem, not a sick broker: it does not count against the breaker.
    if (outcome !== 'returned' && outcome !== 'channel-lost') this.hooks.breakerOutcome(failure);
    if (accepted.route === 'healthy' || accepted.route === 'probe') this.hooks.failed(accepted, failure);
    else this.settleOther(accepted, failure);
  }

  private settleOther(accepted: Accepted, failure: FerryError): void {
    if (accepted.route === 'dead-letter') {
      const settle = accepted.deadLetter;
      accepted.deadLetter = undefined;
      settle?.reject(failure);
    } else {
      this.hooks.retrySettled(accepted, failure);
    }
  }
}
