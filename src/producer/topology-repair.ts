/**
 * Declares the topology again while connected, when the broker shows that part of it is gone (an
 * unroutable return, a 404 on the confirm channel). Without it the missing object stays missing until
 * the next reconnect, and every message meanwhile is returned, retried and dead-lettered.
 *
 * @internal
 */
import { FerryError } from '../errors.js';

/** What a {@link TopologyRepair} needs. */
export interface TopologyRepairSettings {
  /** Declares the topology on the current session (its RPC channel, never the confirm channel). */
  readonly declare: () => Promise<void>;
  /** Wall clock in ms. */
  readonly now: () => number;
  /** At most one re-declaration starts per this many ms: a stream of returns asks for one each. */
  readonly intervalMs: number;
  /** Told about a failed re-declaration; not fatal, the retries and dead-lettering stay the safety net. */
  readonly onError: (error: FerryError) => void;
}

/**
 * Re-declarations, one at a time and rate-limited.
 *
 * @internal
 */
export class TopologyRepair {
  private running: Promise<void> | null = null;
  /** A declaration waiting for the interval to pass: the requests meanwhile share it. */
  private deferred: {
    readonly promise: Promise<void>;
    readonly timer: NodeJS.Timeout;
    readonly cancel: () => void;
  } | null = null;
  private lastStart = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(private readonly settings: TopologyRepairSettings) {}

  /**
   * A declaration that starts no earlier than this call: now, or once `intervalMs` has passed since
   * the last one started. A request made while one runs gets the running one. The promise never
   * rejects; it resolves once that declaration has finished, or at {@link stop}.
   *
   * A request is never dropped: the object missing now (a queue deleted right after the last
   * declaration) may not have been missing when the last one ran.
   */
  request(): Promise<void> {
    if (this.running !== null) return this.running;
    if (this.deferred !== null) return this.deferred.promise;
    if (this.stopped) return Promise.resolve();
    const wait = this.lastStart + this.settings.intervalMs - this.settings.now();
    if (wait <= 0) return this.start();
    let finish: () => void = () => undefined;
    const promise = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const timer = setTimeout(() => {
      this.deferred = null;
      this.start().then(finish);
    }, wait);
    timer.unref();
    this.deferred = { promise, timer, cancel: finish };
    return promise;
  }

  /** No more declarations: a deferred one is cancelled (its waiters resume), later requests do nothing. */
  stop(): void {
    this.stopped = true;
    const deferred = this.deferred;
    this.deferred = null;
    if (deferred === null) return;
    clearTimeout(deferred.timer);
    deferred.cancel();
  }

  private start(): Promise<void> {
    this.lastStart = this.settings.now();
    const running = this.declare().finally(() => {
      this.running = null;
    });
    this.running = running;
    return running;
  }

  private async declare(): Promise<void> {
    try {
      await this.settings.declare();
    } catch (error) {
      // After stop the connection is closing on purpose: its declaration failing says nothing.
      if (!this.stopped) this.settings.onError(FerryError.from(error));
    }
  }
}
