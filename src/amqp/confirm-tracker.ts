/**
 * Bookkeeping of unconfirmed publishes on one confirm channel: pure, synchronous, O(1) amortised per
 * operation and allocation-free on the hot path.
 *
 * The broker numbers a confirm channel's publishes 1, 2, 3, … so the entries live in a ring buffer
 * indexed by `tag - base`, where `base` is the oldest tag still in the window. Acks out of order leave
 * holes that the head skips once it reaches them, so every slot is passed at most once.
 */

/** How a tracked publish ended. */
export type SettleOutcome = 'confirmed' | 'nacked' | 'returned' | 'confirm-timeout' | 'channel-lost';

/**
 * Called once for every entry that settles, in tag order within one call, with the `kind` and
 * `writtenAt` given to `track`. It may call `track` (to republish at once); it must not throw, or the
 * rest of a multiple ack stays outstanding.
 */
export type SettleVisitor<T> = (
  entry: T,
  outcome: SettleOutcome,
  tag: number,
  kind: number,
  writtenAt: number,
) => void;

/** Options of a {@link ConfirmTracker}. */
export interface ConfirmTrackerOptions<T> {
  /** The message id of an entry: `basic.return` names a message only by its properties. */
  readonly messageId: (entry: T) => string | undefined;
  /** Slots allocated up front; the buffer doubles when the window outgrows it. Rounded up to a power of two. */
  readonly initialCapacity?: number;
}

const FREE = 0;
const LIVE = 1;
const RETURNED = 2;

/**
 * Unconfirmed publishes of one confirm channel, keyed by delivery tag.
 *
 * Outcomes: an ack settles an entry as `confirmed`, a nack as `nacked`, the sweep of {@link expire} as
 * `confirm-timeout`, {@link drain} as `channel-lost`. An entry that a `basic.return` was tied to (see
 * {@link markReturned}) settles as `returned` whatever ends it: the broker said it went nowhere.
 *
 * Acks for tags that are unknown, already settled or expired are ignored, never thrown.
 */
export class ConfirmTracker<T> {
  private entries: (T | undefined)[];
  private deadlines: Float64Array;
  private states: Uint8Array;
  /** A small number per entry that the caller gives at {@link track} (who the write belongs to). */
  private kinds: Uint8Array;
  /**
   * When each write was made (ms), given at {@link track}: kept here rather than on the entry, where
   * a time is a boxed number, one more object per write held until its confirm.
   */
  private writtenAts: Float64Array;
  private mask: number;
  /** Ring index of tag `base`; while entries are outstanding, that slot is live. */
  private head = 0;
  private base = 1;
  private next = 1;
  private count = 0;
  private lastDeadline = Number.NEGATIVE_INFINITY;
  /** Returns arrive in publish order, so the next one is searched from after the previous match. */
  private returnCursor = 1;
  private readonly messageIdOf: (entry: T) => string | undefined;
  private readonly initialCapacity: number;

  constructor(options: ConfirmTrackerOptions<T>) {
    this.messageIdOf = options.messageId;
    this.initialCapacity = 2 ** Math.ceil(Math.log2(Math.max(2, options.initialCapacity ?? 256)));
    this.entries = new Array(this.initialCapacity);
    this.deadlines = new Float64Array(this.initialCapacity);
    this.states = new Uint8Array(this.initialCapacity);
    this.kinds = new Uint8Array(this.initialCapacity);
    this.writtenAts = new Float64Array(this.initialCapacity);
    this.mask = this.initialCapacity - 1;
  }

  /** Entries awaiting a confirm. */
  get size(): number {
    return this.count;
  }

  /** The delivery tag the next {@link track} assigns: the channel's next publish sequence number. */
  get nextTag(): number {
    return this.next;
  }

  /**
   * The deadline of the oldest outstanding entry, which is the next to expire; `undefined` when none
   * is outstanding. Arm one timer for it.
   */
  nextDeadline(): number | undefined {
    return this.count === 0 ? undefined : this.deadlines[this.head];
  }

  /** Same as {@link nextDeadline}: deadlines never decrease in tag order, so the oldest expires first. */
  get oldestDeadline(): number | undefined {
    return this.nextDeadline();
  }

  /**
   * Records a publish just written to the channel and returns its delivery tag.
   *
   * The effective deadline is `max(deadline, previous entry's effective deadline)`: with a constant
   * confirm timeout that is the deadline itself, and it keeps expiry a sweep from the head. Deadlines
   * must be finite. `kind` (0–255) and `writtenAt` come back to the visitor with the entry's outcome.
   */
  track(entry: T, deadline: number, kind = 0, writtenAt = 0): number {
    if (this.next - this.base === this.entries.length) this.grow();
    const slot = (this.head + (this.next - this.base)) & this.mask;
    const effective = Math.max(deadline, this.lastDeadline);
    this.entries[slot] = entry;
    this.states[slot] = LIVE;
    this.kinds[slot] = kind;
    this.writtenAts[slot] = writtenAt;
    this.deadlines[slot] = effective;
    this.lastDeadline = effective;
    this.count += 1;
    const tag = this.next;
    this.next += 1;
    return tag;
  }

  /**
   * `basic.ack`: settles `tag`, or with `multiple` every outstanding tag up to it (tag 0 with `multiple`:
   * all). Returns how many entries settled.
   */
  ack(tag: number, multiple: boolean, visitor: SettleVisitor<T>): number {
    return multiple ? this.settleUpTo(tag, 'confirmed', visitor) : this.settleOne(tag, 'confirmed', visitor);
  }

  /** `basic.nack`: as {@link ack}, with outcome `nacked`. */
  nack(tag: number, multiple: boolean, visitor: SettleVisitor<T>): number {
    return multiple ? this.settleUpTo(tag, 'nacked', visitor) : this.settleOne(tag, 'nacked', visitor);
  }

  /**
   * Ties a `basic.return` (which arrives before the ack of the same message) to the outstanding entry
   * with this message id, so that its ack reports `returned`. Returns that entry's tag, or `undefined`
   * when no outstanding entry has the id.
   *
   * The search starts after the previous match because the broker routes, and so returns, a channel's
   * messages in publish order: all returns of a channel cost O(1) amortised each, with no index kept
   * per message on the hot path. A return that matches nothing scans the window once.
   */
  markReturned(messageId: string | undefined): number | undefined {
    if (messageId === undefined || this.count === 0) return undefined;
    const from = Math.max(this.returnCursor, this.base);
    const tag = this.find(messageId, from, this.next) ?? this.find(messageId, this.base, from);
    if (tag === undefined) return undefined;
    this.states[this.slotOf(tag)] = RETURNED;
    this.returnCursor = tag + 1;
    return tag;
  }

  /**
   * Settles, as `confirm-timeout`, every entry whose deadline is at or before `now`, oldest first.
   * A late ack for one of them is ignored. Returns how many expired.
   */
  expire(now: number, visitor: SettleVisitor<T>): number {
    let settled = 0;
    while (this.count > 0 && this.deadlines[this.head]! <= now) {
      this.settle(this.head, this.base, 'confirm-timeout', visitor);
      settled += 1;
    }
    return settled;
  }

  /**
   * The channel is gone: hands back every outstanding entry in tag order as `channel-lost`, and
   * restarts numbering at 1 for the next channel. The tracker is reset before the visitor runs, so
   * entries the visitor tracks again belong to the new channel.
   */
  drain(visitor: SettleVisitor<T>): number {
    const { entries, states, kinds, writtenAts, mask, head, base, next } = this;
    this.entries = new Array(this.initialCapacity);
    this.deadlines = new Float64Array(this.initialCapacity);
    this.states = new Uint8Array(this.initialCapacity);
    this.kinds = new Uint8Array(this.initialCapacity);
    this.writtenAts = new Float64Array(this.initialCapacity);
    this.mask = this.initialCapacity - 1;
    this.head = 0;
    this.base = 1;
    this.next = 1;
    this.count = 0;
    this.returnCursor = 1;
    let settled = 0;
    for (let tag = base; tag < next; tag += 1) {
      const slot = (head + (tag - base)) & mask;
      const state = states[slot];
      if (state === FREE) continue;
      const outcome = state === RETURNED ? 'returned' : 'channel-lost';
      visitor(entries[slot] as T, outcome, tag, kinds[slot]!, writtenAts[slot]!);
      settled += 1;
    }
    return settled;
  }

  private slotOf(tag: number): number {
    return (this.head + (tag - this.base)) & this.mask;
  }

  /** The outstanding entry with this message id, if any; scans the window (not for the hot path). */
  findByMessageId(messageId: string): T | undefined {
    const tag = this.find(messageId, this.base, this.next);
    return tag === undefined ? undefined : this.entries[this.slotOf(tag)];
  }

  private find(messageId: string, from: number, to: number): number | undefined {
    for (let tag = from; tag < to; tag += 1) {
      const slot = this.slotOf(tag);
      if (this.states[slot] === LIVE && this.messageIdOf(this.entries[slot] as T) === messageId) return tag;
    }
    return undefined;
  }

  private settleOne(tag: number, outcome: SettleOutcome, visitor: SettleVisitor<T>): number {
    if (tag < this.base || tag >= this.next) return 0;
    const slot = this.slotOf(tag);
    if (this.states[slot] === FREE) return 0;
    this.settle(slot, tag, outcome, visitor);
    return 1;
  }

  private settleUpTo(tag: number, outcome: SettleOutcome, visitor: SettleVisitor<T>): number {
    const last = tag === 0 ? Number.POSITIVE_INFINITY : tag;
    let settled = 0;
    // Fields are re-read every round: the visitor may track entries and grow the buffer.
    while (this.count > 0 && this.base <= last) {
      this.settle(this.head, this.base, outcome, visitor);
      settled += 1;
    }
    return settled;
  }

  /** Frees a live slot, moves the head past settled slots if it was the head, then tells the visitor. */
  private settle(slot: number, tag: number, outcome: SettleOutcome, visitor: SettleVisitor<T>): void {
    const final = this.states[slot] === RETURNED ? 'returned' : outcome;
    const entry = this.entries[slot] as T;
    const kind = this.kinds[slot]!;
    const writtenAt = this.writtenAts[slot]!;
    this.entries[slot] = undefined;
    this.states[slot] = FREE;
    this.count -= 1;
    while (this.base < this.next && this.states[this.head] === FREE) {
      this.head = (this.head + 1) & this.mask;
      this.base += 1;
    }
    visitor(entry, final, tag, kind, writtenAt);
  }

  private grow(): void {
    const capacity = this.entries.length * 2;
    const entries: (T | undefined)[] = new Array(capacity);
    const deadlines = new Float64Array(capacity);
    const states = new Uint8Array(capacity);
    const kinds = new Uint8Array(capacity);
    const writtenAts = new Float64Array(capacity);
    for (let offset = 0; offset < this.next - this.base; offset += 1) {
      const slot = (this.head + offset) & this.mask;
      entries[offset] = this.entries[slot];
      deadlines[offset] = this.deadlines[slot]!;
      states[offset] = this.states[slot]!;
      kinds[offset] = this.kinds[slot]!;
      writtenAts[offset] = this.writtenAts[slot]!;
    }
    this.entries = entries;
    this.deadlines = deadlines;
    this.states = states;
    this.kinds = kinds;
    this.writtenAts = writtenAts;
    this.mask = capacity - 1;
    this.head = 0;
  }
}
