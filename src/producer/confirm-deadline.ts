/**
 * The confirm deadline of every write on the confirm channel, first publishes, retries and
 * dead-letter hand-offs alike: the one place that decides when a write's outcome becomes unknown.
 *
 * Deadlines run on a clock that stops while the broker blocks the connection: a blocked broker reads
 * nothing, so no confirm is late, and timing out every message on the wire would only republish them
 * all (duplicates) and trip the breaker.
 *
 * @internal
 */

/** What a {@link ConfirmDeadline} needs. */
export interface ConfirmDeadlineSettings {
  /** How long a write may wait for its confirm. */
  readonly timeoutMs: number;
  /** Wall clock in ms. */
  readonly now: () => number;
  /**
   * The timer fired: expire what is due on `clock` and return the next deadline, if any. Not called
   * while blocked.
   */
  readonly expire: (clock: number) => number | undefined;
}

/**
 * One timer for the oldest outstanding deadline, on a clock that pauses while blocked.
 *
 * @internal
 */
export class ConfirmDeadline {
  private timer: NodeJS.Timeout | undefined;
  private timerDeadline = Number.POSITIVE_INFINITY;
  /** Time spent blocked in earlier blocks. */
  private blockedMs = 0;
  /** When the current block began, or `null`. */
  private blockedSince: number | null = null;

  constructor(private readonly settings: ConfirmDeadlineSettings) {}

  /** The deadline of a write made at `now` (wall time); arms the timer when it is the earliest. */
  deadlineFor(now: number): number {
    const deadline = this.clock(now) + this.settings.timeoutMs;
    if (deadline < this.timerDeadline) this.arm(deadline);
    return deadline;
  }

  /** The broker blocks the connection: the clock stops. */
  block(): void {
    this.blockedSince ??= this.settings.now();
  }

  /** The block ended (or its connection did): the clock runs again, the timer aims at `next`. */
  unblock(next: number | undefined): void {
    if (this.blockedSince === null) return;
    this.blockedMs += this.settings.now() - this.blockedSince;
    this.blockedSince = null;
    if (next !== undefined) this.arm(next);
  }

  /** Stops the timer; called on close. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDeadline = Number.POSITIVE_INFINITY;
  }

  /** Wall time minus the time spent blocked: the clock deadlines are set and checked on. */
  private clock(now = this.settings.now()): number {
    return now - this.blockedMs - (this.blockedSince === null ? 0 : now - this.blockedSince);
  }

  private arm(deadline: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerDeadline = deadline;
    this.timer = setTimeout(() => this.fire(), Math.max(0, deadline - this.clock()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerDeadline = Number.POSITIVE_INFINITY;
    // Blocked: nothing expires; `unblock` re-arms the timer.
    if (this.blockedSince !== null) return;
    const next = this.settings.expire(this.clock());
    if (next !== undefined) this.arm(next);
  }
}
