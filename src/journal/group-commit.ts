/**
 * Group commit: events appended by many concurrent publishes are written together, one transaction
 * (sqlite) or one round trip (redis) per batch, so durability costs once per batch instead of once
 * per message and never makes `publish()` sequential.
 *
 * A batch is written on the next turn of the event loop (`delayMs` 0), or after `delayMs` to gather
 * more, or at once when it reaches `maxBatch`. Writes never overlap: a batch that fills up while the
 * previous one is being written goes next.
 *
 * @internal
 */

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Options of {@link GroupCommit}. */
export interface GroupCommitOptions {
  /** Longest wait before a batch is written, ms; 0 writes on the next turn of the event loop. */
  readonly delayMs: number;
  /** A batch this large is written without waiting. */
  readonly maxBatch: number;
  /** Told about a failed write that no `flushed()` caller was waiting for. */
  readonly onError: (error: unknown) => void;
}

/** @internal */
export class GroupCommit<T> {
  private buffer: T[] = [];
  /** Waiters for the buffered batch; created only when someone waits. */
  private waiter: Deferred | null = null;
  /** The batch being written; rejects with its write's error. */
  private writing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  /** While false, batches wait (the store is not open yet). */
  private ready = false;

  constructor(
    private readonly write: (batch: T[]) => void | Promise<void>,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Buffered and not yet written. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Lets batches be written; until then they are only buffered. */
  start(): void {
    this.ready = true;
    if (this.buffer.length > 0) this.schedule();
  }

  add(item: T): void {
    this.buffer.push(item);
    this.schedule();
  }

  /** Resolves when everything added so far is written; rejects with the write's error. */
  flushed(): Promise<void> {
    if (this.buffer.length === 0) return this.writing ?? Promise.resolve();
    this.waiter ??= deferred();
    return this.waiter.promise;
  }

  /** Writes whatever is buffered now, after a write in progress; errors go to `onError`. */
  async drain(): Promise<void> {
    this.cancel();
    while (this.writing !== null || this.buffer.length > 0) {
      await (this.writing ?? this.flush()).catch(() => undefined);
    }
  }

  private schedule(): void {
    if (!this.ready || this.writing !== null || this.immediate !== null) return;
    if (this.options.delayMs > 0 && this.buffer.length < this.options.maxBatch) {
      this.timer ??= setTimeout(() => this.run(), this.options.delayMs);
      return;
    }
    this.cancel();
    this.immediate = setImmediate(() => this.run());
  }

  private cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  private run(): void {
    this.cancel();
    if (this.writing === null && this.buffer.length > 0) this.flush().catch(() => undefined);
  }

  private flush(): Promise<void> {
    const batch = this.buffer;
    const waiter = this.waiter;
    this.buffer = [];
    this.waiter = null;
    const written = Promise.resolve()
      .then(() => this.write(batch))
      .then(
        () => waiter?.resolve(),
        (error: unknown) => {
          if (waiter === null) this.options.onError(error);
          else waiter.reject(error);
          throw error;
        },
      )
      .finally(() => {
        this.writing = null;
        if (this.buffer.length > 0) this.schedule();
      });
    // Marked handled: the waiters above and any later `flushed()` caller see the error themselves.
    written.catch(() => undefined);
    this.writing = written;
    return written;
  }
}
