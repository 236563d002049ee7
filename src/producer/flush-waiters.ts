/**
 * Callers of `flush()`: each waits until the producer holds nothing unsettled, or its own timeout.
 *
 * @internal
 */

interface Waiter {
  readonly resolve: (idle: boolean) => void;
  readonly timer: NodeJS.Timeout | undefined;
}

/** @internal */
export class FlushWaiters {
  private readonly waiting = new Set<Waiter>();

  /** Whether anyone waits: the producer checks for idleness only then. */
  get any(): boolean {
    return this.waiting.size > 0;
  }

  /** Resolves `true` at the next {@link release}, `false` after `timeoutMs` (none: no limit). */
  wait(timeoutMs: number | undefined): Promise<boolean> {
    return new Promise((resolve) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.waiting.delete(waiter);
              resolve(false);
            }, timeoutMs);
      const waiter: Waiter = { resolve, timer };
      this.waiting.add(waiter);
    });
  }

  /** Ends every wait with `idle`: `true` once nothing is held, `false` when the producer closed. */
  release(idle: boolean): void {
    for (const waiter of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.resolve(idle);
    }
    this.waiting.clear();
  }
}
