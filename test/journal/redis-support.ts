/** Throwaway key prefixes on the shared Redis, deleted after each test. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisJournal } from '../../src/journal/redis-journal.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A prefix no other test uses. */
export function uniquePrefix(what: string): string {
  return `ferry-test:${what}:${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix`. */
export async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A plain client for looking at keys. */
export function rawRedis(): Redis {
  return new Redis(REDIS_URL);
}

/** Settings a {@link redisTestBed} gives every journal unless a test says otherwise. */
export interface RedisTestBedDefaults {
  readonly leaseMs: number;
  /** Where failed writes nobody waited for are reported; the journal's warning when absent. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Redis journals, key prefixes and plain clients for one test file, all removed by `cleanup()` (call it
 * from `afterEach`).
 */
export function redisTestBed(defaults: RedisTestBedDefaults) {
  const prefixes: string[] = [];
  const journals: RedisJournal[] = [];
  const clients: Redis[] = [];
  return {
    journal(
      keyPrefix: string,
      instanceId: string,
      options: { leaseMs?: number; onError?: (error: unknown) => void } = {},
    ): RedisJournal {
      const onError = options.onError ?? defaults.onError;
      const made = new RedisJournal({
        url: REDIS_URL,
        keyPrefix,
        instanceId,
        leaseMs: options.leaseMs ?? defaults.leaseMs,
        ...(onError === undefined ? {} : { onError }),
      });
      journals.push(made);
      return made;
    },
    prefix(what: string): string {
      const made = uniquePrefix(what);
      prefixes.push(made);
      return made;
    },
    raw(): Redis {
      const client = rawRedis();
      clients.push(client);
      return client;
    },
    /** Stops an instance the way a SIGKILL would: no more renewals, no clean-up. */
    die(victim: RedisJournal): void {
      const internals = victim as unknown as { renewTimer: NodeJS.Timeout; redis: Redis };
      clearInterval(internals.renewTimer);
      internals.redis.disconnect();
      journals.splice(journals.indexOf(victim), 1);
    },
    async cleanup(): Promise<void> {
      for (const journal of journals.splice(0)) await journal.close().catch(() => undefined);
      for (const client of clients.splice(0)) client.disconnect();
      for (const prefix of prefixes.splice(0)) await deletePrefix(prefix);
    },
  };
}
