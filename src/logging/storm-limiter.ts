/**
 * Bounds how many lines one kind of event writes per window: a broker outage can fail thousands of
 * messages at once, and a line for each would bury the few lines that say why. The lines over the
 * bound are counted, and one summary line per kind says how many were left out once the window ends.
 */

/** Options of {@link StormLimiter}. */
export interface StormLimiterOptions {
  /** Lines of one kind written per window before the rest are counted instead; 20 by default. */
  readonly linesPerWindow?: number;
  /** Length of a window, ms; 10,000 by default. */
  readonly windowMs?: number;
  /** Called once per kind and window that left lines out, at the window's end. */
  readonly onSuppressed: (kind: string, suppressed: number, windowMs: number) => void;
}

interface Window {
  written: number;
  suppressed: number;
  readonly timer: NodeJS.Timeout;
}

/** Decides per line whether to write it; see the module comment. */
export class StormLimiter {
  private readonly linesPerWindow: number;
  private readonly windowMs: number;
  private readonly windows = new Map<string, Window>();

  constructor(private readonly options: StormLimiterOptions) {
    this.linesPerWindow = options.linesPerWindow ?? 20;
    this.windowMs = options.windowMs ?? 10_000;
  }

  /** Whether a line of `kind` may be written now; counts it as suppressed when not. */
  admit(kind: string): boolean {
    let window = this.windows.get(kind);
    if (window === undefined) {
      // The window starts with its first line and ends on a timer, so that the summary of a storm
      // that stopped is still written; unref'd, it never keeps the process alive.
      const timer = setTimeout(() => this.close(kind), this.windowMs);
      timer.unref();
      window = { written: 0, suppressed: 0, timer };
      this.windows.set(kind, window);
    }
    if (window.written < this.linesPerWindow) {
      window.written += 1;
      return true;
    }
    window.suppressed += 1;
    return false;
  }

  /** Ends every window now, writing the summaries that are due (on shutdown). */
  flush(): void {
    for (const kind of [...this.windows.keys()]) this.close(kind);
  }

  private close(kind: string): void {
    const window = this.windows.get(kind);
    if (window === undefined) return;
    clearTimeout(window.timer);
    this.windows.delete(kind);
    if (window.suppressed > 0) this.options.onSuppressed(kind, window.suppressed, this.windowMs);
  }
}
