/**
 * One confirm channel as the hot path sees it: the channel, its own confirm tracker (delivery tags
 * are per channel), whether its write buffer has room, and its reopen after the broker closed it.
 * With `channels: 1` the publisher has one lane, the session's own channel; the pool adds more.
 *
 * @internal
 */
import { ConfirmTracker, type SettleVisitor } from '../amqp/confirm-tracker.js';
import type { ConfirmChannelPort, LaneListener } from '../amqp/ports.js';
import type { FerryError } from '../errors.js';
import type { Accepted } from './accepted.js';
import { ChannelReopen } from './channel-reopen.js';

/** `basic.return`'s reply code for a message no binding routed. */
const NO_ROUTE = 312;

/** What a lane hands on to the publisher that owns it. */
export interface LaneOwner {
  /** Where every settled entry goes. */
  readonly settle: SettleVisitor<Accepted>;
  /** A confirm or a drain made room: send what may now go. */
  pump(): void;
  /** A message came back unroutable: part of the topology is missing. */
  noRoute(): void;
  /** The broker closed this lane's channel; the connection lives. */
  channelClosed(lane: PublishLane, error: FerryError): void;
}

/**
 * A confirm channel and its bookkeeping.
 *
 * @internal
 */
export class PublishLane implements LaneListener {
  /** `null` while the channel is being reopened (its entries were handed back). */
  tracker: ConfirmTracker<Accepted> | null = null;
  /** The channel's write buffer has room (no `drain` awaited). */
  writable = true;
  readonly reopen = new ChannelReopen();

  constructor(
    readonly port: ConfirmChannelPort,
    private readonly owner: LaneOwner,
    private readonly capacity: number,
  ) {
    this.open();
  }

  /** Ready for writes: a channel attached, no reopen under way. */
  get ready(): boolean {
    return this.tracker !== null && this.reopen.pending === null;
  }

  /** Ready, and its write buffer has room. */
  get sendable(): boolean {
    return this.writable && this.tracker !== null && this.reopen.pending === null;
  }

  /** Writes on this lane and not yet confirmed. */
  get inFlight(): number {
    return this.tracker?.size ?? 0;
  }

  /** The channel is (again) open: a fresh tracker, tags from 1. */
  open(): void {
    this.tracker = new ConfirmTracker<Accepted>({
      messageId: (accepted) => accepted.messageId,
      initialCapacity: this.capacity,
    });
    this.writable = true;
    this.reopen.finish();
  }

  /** The channel is gone: its tracker, to be drained by the caller; a reopen is under way. */
  lose(): ConfirmTracker<Accepted> | null {
    this.reopen.begin();
    const lost = this.tracker;
    this.tracker = null;
    return lost;
  }

  ack(tag: number, multiple: boolean): void {
    this.tracker?.ack(tag, multiple, this.owner.settle);
    this.owner.pump();
  }

  nack(tag: number, multiple: boolean): void {
    this.tracker?.nack(tag, multiple, this.owner.settle);
    this.owner.pump();
  }

  returned(messageId: string | undefined, replyCode: number): void {
    this.tracker?.markReturned(messageId);
    if (replyCode === NO_ROUTE) this.owner.noRoute();
  }

  drain(): void {
    this.writable = true;
    this.owner.pump();
  }

  channelClosed(error: FerryError): void {
    this.owner.channelClosed(this, error);
  }
}

/**
 * Writes on all lanes not yet confirmed.
 *
 * @internal
 */
export function totalInFlight(lanes: readonly PublishLane[]): number {
  let count = 0;
  for (let i = 0; i < lanes.length; i += 1) count += (lanes[i] as PublishLane).inFlight;
  return count;
}

/**
 * The earliest confirm deadline over all lanes: the oldest write of each is the next it expires.
 *
 * @internal
 */
export function earliestDeadline(lanes: readonly PublishLane[]): number | undefined {
  let next: number | undefined;
  for (const lane of lanes) {
    const deadline = lane.tracker?.nextDeadline();
    if (deadline !== undefined && (next === undefined || deadline < next)) next = deadline;
  }
  return next;
}

/**
 * The written, unconfirmed message with this id on any lane (scans: not for the hot path).
 *
 * @internal
 */
export function findInFlight(lanes: readonly PublishLane[], messageId: string): Accepted | undefined {
  for (const lane of lanes) {
    const found = lane.tracker?.findByMessageId(messageId);
    if (found !== undefined) return found;
  }
  return undefined;
}
