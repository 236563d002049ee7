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
  private lastStart = Number.NEGATIVE_INFINITY;

  constructor(private readonly settings: TopologyRepairSettings) {}

  /**
   * Starts a re-declaration unless one is running or one started less than `intervalMs` ago. Returns
   * the running one (which never rejects), so a caller may wait for it; `undefined` when none runs.
   */
  request(): Promise<void> | undefined {
    if (this.running !== null) return this.running;
    const now = this.settings.now();
    if (now - this.lastStart < this.settings.intervalMs) return undefined;
    this.lastStart = now;
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
      this.settings.onError(FerryError.from(error));
    }
  }
}
