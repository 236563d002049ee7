/**
 * The relay's wake-up: one connection `LISTEN`ing on the outbox's channel. An enqueuing transaction's
 * trigger notifies at commit, so a relay claims a committed row at once instead of at its next poll.
 * The connection is re-made when it drops (PostgreSQL restarted); while it is down, and for anything a
 * notification missed, polling is the fallback.
 *
 * @internal
 */
import type { PgPool, PgPoolClient } from './queryable.js';

/** What the listener needs. */
export interface ListenerDependencies {
  readonly pool: PgPool;
  readonly channel: string;
  /** Told when listening fails; the listener tries again by itself. */
  readonly onError: (error: unknown) => void;
}

const RECONNECT_MS = [100, 250, 500, 1_000, 2_000];

/** Notifications on one channel, with a flag that keeps one that came between two waits. */
export class OutboxListener {
  private client: PgPoolClient | null = null;
  private signalled = false;
  private closed = false;
  private failures = 0;
  private retry: NodeJS.Timeout | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly deps: ListenerDependencies) {}

  /** Starts listening; resolves once listening or after the first failure (retried in the background). */
  async start(): Promise<void> {
    const { pool, channel } = this.deps;
    let client: PgPoolClient | null = null;
    try {
      client = await pool.connect();
      const listening = client;
      listening.on('notification', () => this.signal());
      listening.on('error', (error) => this.lost(listening, error));
      await listening.query(`LISTEN "${channel}"`);
      if (this.closed) {
        listening.release(true);
        return;
      }
      this.client = listening;
      this.failures = 0;
      // Whatever was committed while nobody listened is claimed now, not at the next poll.
      this.signal();
    } catch (error) {
      client?.release(true);
      this.deps.onError(error);
      this.schedule();
    }
  }

  /** Clears the flag: a notification from now on ends the next {@link wait} at once. */
  take(): void {
    this.signalled = false;
  }

  /** Resolves on a notification (or one since {@link take}), after `ms`, or on close. */
  wait(ms: number): Promise<void> {
    if (this.signalled || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.waiters.add(done);
    });
  }

  /** Stops listening and ends every wait. */
  close(): void {
    this.closed = true;
    if (this.retry !== null) clearTimeout(this.retry);
    this.client?.release(true);
    this.client = null;
    this.wakeAll();
  }

  private signal(): void {
    this.signalled = true;
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private lost(client: PgPoolClient, error: Error): void {
    if (this.client !== client) return;
    this.client = null;
    client.release(true);
    this.deps.onError(error);
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    const delay = RECONNECT_MS[Math.min(this.failures, RECONNECT_MS.length - 1)] as number;
    this.failures += 1;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.start();
    }, delay);
    this.retry.unref();
  }
}
