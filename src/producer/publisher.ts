/**
 * The hot path: accepted messages go from the outbox onto a confirm channel, and confirms come back
 * through that channel's tracker, with nothing per message but a ring-buffer slot. Every write is
 * tracked with the kind of its owner (see write-owner.ts); what leaves this path (nack, return, confirm
 * timeout, a dead channel) goes to that owner. A dead connection's first publishes come back to the
 * outbox front.
 *
 * With `channels` above 1 the session has a pool of confirm channels (lanes, see publish-lane.ts); a
 * message goes on the lane its routing key hashes to (channel-pick.ts), so each key's messages keep
 * their order. The outbox stays one queue: when its head's lane is full or reopening, the others wait
 * too, which keeps the order without a queue per lane.
 */

import { pickChannel } from '../amqp/channel-pick.js';
import type { ConfirmTracker, SettleOutcome, SettleVisitor } from '../amqp/confirm-tracker.js';
import type { BrokerSession, SessionListener } from '../amqp/ports.js';
import { FerryError } from '../errors.js';
import type { Accepted } from './accepted.js';
import { ConfirmDeadline } from './confirm-deadline.js';
import { ownersByKind, Requeue } from './first-publish-owners.js';
import type { Outbox } from './outbox.js';
import {
  earliestDeadline,
  findInFlight,
  type LaneOwner,
  PublishLane,
  totalInFlight,
} from './publish-lane.js';
import type { PublisherDependencies, PublisherSettings } from './publisher-ports.js';
import { SizeLimit } from './size-limit.js';
import { settleSizeRefusal } from './size-refusal-settle.js';
import { outcomeFailure, WRITE, type WriteKind, type WriteOwner } from './write-owner.js';

/**
 * Owns the current session's confirm channels and their trackers.
 *
 * @internal
 */
export class Publisher implements SessionListener {
  private session: BrokerSession | null = null;
  /** The session's confirm channels, its own first; none without a session. */
  private lanes: PublishLane[] = [];
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
  private readonly settleVisitor: SettleVisitor<Accepted> = (accepted, outcome, _tag, kind, writtenAt) =>
    this.settle(accepted, outcome, kind, writtenAt);
  private readonly laneOwner: LaneOwner = {
    settle: this.settleVisitor,
    pump: () => this.pump(),
    noRoute: () => void this.dependencies.reports.topologyMissing(),
    channelClosed: (lane, error) => this.laneClosed(lane, error),
  };

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
    return findInFlight(this.lanes, messageId);
  }

  /** Messages written and not yet confirmed. */
  get inFlight(): number {
    return totalInFlight(this.lanes);
  }

  /** Confirm channels open and not being reopened. */
  get openChannels(): number {
    return this.lanes.filter((lane) => lane.ready).length;
  }

  /** The session, for the connection machine's health check and graceful close. */
  get current(): BrokerSession | null {
    return this.session;
  }

  /** Takes a freshly connected session (topology declared). */
  attach(session: BrokerSession): void {
    this.session = session;
    const pool = session.pool ?? [];
    // The window is shared; each tracker starts with its share and grows if its keys take more.
    const capacity = Math.ceil(this.settings.maxInFlight / (pool.length + 1));
    this.lanes = [session, ...pool].map((port) => new PublishLane(port, this.laneOwner, capacity));
    // A pool channel's close before this moment is delivered now, so the lanes must exist first.
    for (let i = 0; i < pool.length; i += 1) pool[i]?.setListener(this.lanes[i + 1] as PublishLane);
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
    return this.gateOpen && this.outbox.length === 0 && this.allSendable() && this.windowOpen();
  }

  /** Writes a first publish now; the caller checked {@link canSendNow}. */
  sendNow(accepted: Accepted): void {
    this.writeFirst(accepted, WRITE.healthy, this.laneFor(accepted) as PublishLane);
  }

  /** Sends buffered messages while the gate, the window and the head's channel allow. */
  pump(): void {
    if (this.session === null) return;
    const { outbox } = this;
    if (!this.gateOpen) {
      const probe = this.probeAllowed ? outbox.peek() : undefined;
      const lane = probe === undefined ? undefined : this.laneFor(probe);
      if (lane?.sendable === true) {
        this.probeAllowed = false;
        this.writeFirst(outbox.shift() as Accepted, WRITE.probe, lane);
        this.dependencies.breaker.probeSent();
      }
      return;
    }
    while (outbox.length > 0 && this.windowOpen()) {
      const lane = this.laneFor(outbox.peek() as Accepted);
      if (lane?.sendable !== true) return;
      this.writeFirst(outbox.shift() as Accepted, WRITE.healthy, lane);
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
    const lane = this.laneFor(accepted);
    const reopening = lane?.reopen.pending ?? null;
    if (reopening !== null) return reopening.then(() => this.publishFor(accepted, kind, headers));
    if (lane?.ready !== true)
      throw new FerryError('CONNECTION_LOST', 'no usable channel; waiting for the connection');
    const refusal =
      accepted.bytes > this.sizeLimit.bytes ? this.sizeLimit.refusal(accepted.bytes) : undefined;
    if (refusal !== undefined) throw refusal;
    const exchange = kind === WRITE.deadLetter ? this.settings.deadLetterExchange : accepted.message.exchange;
    const failure = this.write(lane, accepted, kind, exchange, true, headers);
    if (failure !== null) throw failure;
    return undefined;
  }

  // SessionListener: events from the live session; its own channel's go to the first lane.

  ack(tag: number, multiple: boolean): void {
    this.lanes[0]?.ack(tag, multiple);
  }

  nack(tag: number, multiple: boolean): void {
    this.lanes[0]?.nack(tag, multiple);
  }

  returned(messageId: string | undefined, replyCode: number): void {
    this.lanes[0]?.returned(messageId, replyCode);
  }

  drain(): void {
    this.lanes[0]?.drain();
  }

  channelClosed(error: FerryError): void {
    this.lanes[0]?.channelClosed(error);
  }

  blocked(reason: string): void {
    this.deadline.block();
    this.dependencies.reports.connectionEvent({ type: 'connection.blocked', reason });
  }

  unblocked(): void {
    this.deadline.unblock(earliestDeadline(this.lanes));
    this.dependencies.reports.connectionEvent({ type: 'connection.unblocked' });
  }

  /** The broker closed one lane's channel: only its writes are handed back, only it is reopened. */
  private laneClosed(lane: PublishLane, error: FerryError): void {
    const session = this.session;
    if (session === null) return;
    const lost = lane.lose();
    const sizeLimit = this.sizeLimit.learn(error);
    if (sizeLimit === undefined || lost === null) {
      lost?.drain((accepted, outcome, _tag, kind, at) => this.settle(accepted, outcome, kind, at, error));
      this.dependencies.breaker.outcome(error);
    } else {
      const { owners } = this;
      const handlers = { owners, reports: this.dependencies.reports, settle: this.settleVisitor };
      if (settleSizeRefusal(lost, sizeLimit, error, handlers)) this.flushRequeue();
      else this.dependencies.breaker.outcome(error);
    }
    // A 404 names a missing exchange: declared again first, the reopened channel's publishes route.
    const repaired = error.code === 'NOT_FOUND' ? this.dependencies.reports.topologyMissing() : undefined;
    const reopened =
      repaired === undefined ? lane.port.reopenChannel() : repaired.then(() => lane.port.reopenChannel());
    reopened.then(
      () => {
        if (this.session !== session) return;
        lane.open();
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

  /** The lane for this message's routing key; `undefined` without a session. */
  private laneFor(accepted: Accepted): PublishLane | undefined {
    const { lanes } = this;
    return lanes.length === 1 ? lanes[0] : lanes[pickChannel(accepted.message.routingKey, lanes.length)];
  }

  /** A session is attached and every lane could take a write now. */
  private allSendable(): boolean {
    const { lanes } = this;
    for (let i = 0; i < lanes.length; i += 1) if (!(lanes[i] as PublishLane).sendable) return false;
    return lanes.length > 0;
  }

  /** The in-flight window is over all lanes together. */
  private windowOpen(): boolean {
    return this.inFlight < this.settings.maxInFlight;
  }

  /** A first publish (or the probe): refused by the learned size limit, written, or handed back. */
  private writeFirst(
    accepted: Accepted,
    kind: typeof WRITE.healthy | typeof WRITE.probe,
    lane: PublishLane,
  ): void {
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
    const failure = this.write(lane, accepted, kind, exchange, mandatory, undefined);
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
    lane: PublishLane,
    accepted: Accepted,
    kind: WriteKind,
    exchange: string,
    mandatory: boolean,
    extraHeaders: Readonly<Record<string, unknown>> | undefined,
  ): FerryError | null {
    const tracker = lane.tracker as ConfirmTracker<Accepted>;
    const { message } = accepted;
    const properties =
      extraHeaders === undefined
        ? message.properties
        : { ...message.properties, headers: { ...message.properties.headers, ...extraHeaders } };
    try {
      lane.writable = lane.port.publish(exchange, message.routingKey, message.content, properties, mandatory);
    } catch (error) {
      const failure = FerryError.from(error, 'CHANNEL_LOST');
      if (!failure.permanent) lane.writable = false;
      return failure;
    }
    // Track after a successful write: the tracker's tags must follow the channel's exactly.
    const now = this.settings.now();
    tracker.track(accepted, this.deadline.deadlineFor(now), kind, now);
    return null;
  }

  /** The confirm deadline passed for the oldest writes: they settle as `confirm-timeout`. */
  private expire(clock: number): number | undefined {
    if (this.lanes.length === 0) return undefined;
    for (const lane of this.lanes) lane.tracker?.expire(clock, this.settleVisitor);
    const next = earliestDeadline(this.lanes);
    this.pump();
    return next;
  }

  /** Unconfirmed messages of a dead connection go to their owners; first publishes to the outbox front. */
  private takeBack(failure: FerryError): void {
    const { lanes } = this;
    this.lanes = [];
    // A block belongs to its connection; the next one starts unblocked.
    this.deadline.unblock(undefined);
    for (const lane of lanes) {
      const tracker = lane.lose();
      lane.reopen.finish();
      tracker?.drain((accepted, outcome, _tag, kind) => {
        // A returned message went nowhere: only the others may be at the broker already.
        if (outcome === 'channel-lost') this.dependencies.reports.outcomeUnknown(accepted, 'connection-lost');
        (this.owners[kind] as WriteOwner).lost(accepted, failure);
      });
    }
    if (lanes.length > 0) this.flushRequeue();
  }

  /** First publishes handed back go to the outbox front in their order; a lost probe fails the probe. */
  private flushRequeue(): void {
    const probeLost = this.requeue.flushInto(this.outbox);
    if (probeLost !== null) this.dependencies.breaker.outcome(probeLost);
  }

  /** `writtenAt`: when the write was made (ms); `channelError`: the broker closed its channel with it. */
  private settle(
    accepted: Accepted,
    outcome: SettleOutcome,
    kind: number,
    writtenAt: number,
    channelError?: FerryError,
  ): void {
    this.dependencies.reports.answered(accepted, outcome, writtenAt);
    const owner = this.owners[kind] as WriteOwner;
    if (outcome === 'confirmed') {
      if (accepted.bytes > this.sizeLimit.bytes) this.sizeLimit.raised();
      this.dependencies.breaker.outcome(null);
      owner.confirmed(accepted);
      return;
    }
    if (outcome === 'confirm-timeout' || outcome === 'channel-lost')
      this.dependencies.reports.outcomeUnknown(accepted, outcome);
    const failure = outcomeFailure(outcome, accepted.messageId, channelError);
    // A return is a routing problem, not a sick broker: it does not count against the breaker.
    if (outcome !== 'returned' && outcome !== 'channel-lost') this.dependencies.breaker.outcome(failure);
    owner.failed(accepted, failure);
  }
}
