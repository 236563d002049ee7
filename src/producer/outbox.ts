/**
 * The bounded buffer of accepted messages that are not yet on a channel: the broker is unreachable or
 * blocked, the breaker is open, or the in-flight window is full.
 *
 * Bounded in count and bytes so that an outage turns into backpressure on callers, not into unbounded
 * memory. A caller that finds it full waits for room, up to a timeout, and then gets `BUFFER_FULL`.
 */

import { Deque } from '../deque.js';
import { FerryError } from '../errors.js';

/** Anything the outbox holds: it only needs the size in bytes. */
export interface Sized {
  readonly bytes: number;
}

interface RoomWaiter {
  readonly bytes: number;
  readonly count: number;
  readonly resolve: () => void;
  readonly reject: (error: FerryError) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A FIFO with limits on count and bytes, and callers waiting for room in arrival order.
 *
 * @internal
 */
export class Outbox<T extends Sized> {
  private readonly queue = new Deque<T>();
  private readonly waiters = new Deque<RoomWaiter>();
  private bytes = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.queue.length;
  }

  get byteLength(): number {
    return this.bytes;
  }

  /** Callers currently waiting for room. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Whether `count` more messages of `bytes` in all fit now, without jumping ahead of waiting callers. */
  hasRoom(bytes: number, count = 1): boolean {
    return this.waiters.length === 0 && this.fits(bytes, count);
  }

  /**
   * Resolves when `count` more messages of `bytes` in all fit. Rejects with `BUFFER_FULL` after
   * `timeoutMs`, or at once if they are larger than the whole buffer (they could never fit).
   */
  waitForRoom(bytes: number, timeoutMs: number, count = 1): Promise<void> {
    if (bytes > this.maxBytes || count > this.maxMessages) {
      return Promise.reject(
        new FerryError(
          'BUFFER_FULL',
          `${count} message(s) of ${bytes} bytes can never fit a buffer of ${this.maxMessages} messages, ${this.maxBytes} bytes`,
        ),
      );
    }
    if (this.hasRoom(bytes, count)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: RoomWaiter = { bytes, count, resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        waiter.timer = undefined;
        reject(
          new FerryError(
            'BUFFER_FULL',
            `the publish buffer stayed full (${this.queue.length} messages, ${this.bytes} bytes) for ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Appends; the caller checked for room (accepted messages are never refused here). */
  push(item: T): void {
    this.queue.push(item);
    this.bytes += item.bytes;
  }

  /** Puts a message back at the front: it was on a channel that died before it was confirmed. */
  unshift(item: T): void {
    this.queue.unshift(item);
    this.bytes += item.bytes;
  }

  shift(): T | undefined {
    const item = this.queue.shift();
    if (item !== undefined) {
      this.bytes -= item.bytes;
      this.wakeWaiters();
    }
    return item;
  }

  peek(): T | undefined {
    return this.queue.peek();
  }

  /** Everything still buffered, front to back. */
  items(): IterableIterator<T> {
    return this.queue[Symbol.iterator]();
  }

  /** Rejects every waiting caller, e.g. on close. */
  rejectWaiters(error: FerryError): void {
    for (let waiter = this.waiters.shift(); waiter !== undefined; waiter = this.waiters.shift()) {
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  private fits(bytes: number, count: number): boolean {
    return this.queue.length + count <= this.maxMessages && this.bytes + bytes <= this.maxBytes;
  }

  private wakeWaiters(): void {
    for (let waiter = this.waiters.peek(); waiter !== undefined; waiter = this.waiters.peek()) {
      if (waiter.timer === undefined) {
        this.waiters.shift();
        continue;
      }
      if (!this.fits(waiter.bytes, waiter.count)) return;
      this.waiters.shift();
      clearTimeout(waiter.timer);
      waiter.resolve();
      // The woken caller pushes asynchronously; count its bytes now so the next waiter sees them.
      return;
    }
  }
}
