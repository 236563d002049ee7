/**
 * A confirm channel being reopened after the broker closed it while its connection lives: writes for
 * message actors wait for it instead of failing, which would send each actor straight back to write
 * again in a loop of microtasks that starves the very I/O that reopens the channel.
 *
 * @internal
 */
export class ChannelReopen {
  private waiting: Promise<void> | null = null;
  private end: (() => void) | null = null;

  /** Settles when the channel is back, or given up with its connection; `null` when none is under way. */
  get pending(): Promise<void> | null {
    return this.waiting;
  }

  /** The channel closed: a reopen is under way. */
  begin(): void {
    this.waiting ??= new Promise((resolve) => {
      this.end = resolve;
    });
  }

  /** The channel is back, or no longer expected: writes waiting for it go ahead (or fail). */
  finish(): void {
    const end = this.end;
    this.waiting = null;
    this.end = null;
    end?.();
  }
}
