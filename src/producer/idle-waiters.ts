/**
 * Callers waiting for the producer to hold less: `flush()` until nothing accepted is unsettled,
 * `close()` until nothing is buffered or in flight. Each waits for its own condition, or its timeout.
 *
 * @internal
 */

interface Waiter {
  readonly done: () => boolean;
  readonly resolve: (done: boolean) => void;
  readonly timer: NodeJS.Timeout | undefined;
}

/** @internal */
export class IdleWaiters {
  private readonly waiting = new Set<Waiter>();

  /**
   * Resolves `true` once `done()` holds at a {@link check} (at once if it holds now), `false` after
   * `timeoutMs` (none: no limit) or at {@link release}.
   */
  wait(done: () => boolean, timeoutMs: number | undefined): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.waiting.delete(waiter);
              resolve(false);
            }, timeoutMs);
      const waiter: Waiter = { done, resolve, timer };
      this.waiting.add(waiter);
    });
  }

  /** Something settled: every waiter whose condition now holds resolves `true`. */
  check(): void {
    if (this.waiting.size === 0) return;
    for (const waiter of this.waiting) {
      if (!waiter.done()) continue;
      this.waiting.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(true);
    }
  }

  /** The producer closed: every wait ends `false`. */
  release(): void {
    for (const waiter of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.waiting.clear();
  }
}
