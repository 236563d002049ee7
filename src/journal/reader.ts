/**
 * Read-only access to a journal, for `ferry journal` and for tests that look at what a killed process
 * left behind. Nothing here writes: a sqlite file is opened read-only, Redis is only read.
 */
import type { Database } from 'better-sqlite3';
import { postgresReader } from '../postgres/outbox-reader.js';
import { JOURNAL_SCHEMA_VERSION } from './codec.js';
import type { JournalConfig } from './create-journal.js';
import { type FinishedCounts, foldJournal, type JournalState } from './fold.js';
import type { JournalEvent } from './journal.js';
import { JournalError } from './journal-error.js';
import { RedisKeys } from './redis-keys.js';
import { connectRedis, readStream } from './redis-store.js';
import { checkJournal, openDatabase, readEvents, readTotals } from './sqlite-store.js';

/** One stored event and where it is (`seq 12`, `entry 1700000000000-0`). */
export interface PositionedEvent {
  readonly position: string;
  readonly event: JournalEvent;
}

/** A journal opened for reading. */
export interface JournalReader {
  /** `sqlite ./ferry.db`, `redis ferry@redis://…`. */
  readonly description: string;
  readonly schemaVersion: number;
  /** Every stored event, in journal order. */
  events(): AsyncIterable<PositionedEvent>;
  /** Finished messages since the journal was created (compaction removed their events). */
  totals(): Promise<FinishedCounts>;
  close(): Promise<void>;
}

/**
 * Opens a journal for reading.
 *
 * @throws JournalError `JOURNAL_UNAVAILABLE` (missing file, Redis down), `JOURNAL_CORRUPT`,
 *   `JOURNAL_TOO_NEW`; the store is left as it was.
 */
export async function openJournalReader(config: JournalConfig): Promise<JournalReader> {
  switch (config.kind) {
    case 'memory':
      throw new JournalError(
        'JOURNAL_UNAVAILABLE',
        'a memory journal lives inside its process: nothing to read',
      );
    case 'sqlite':
      return sqliteReader(config.path);
    case 'redis':
      return redisReader(config.url, config.keyPrefix ?? 'ferry');
    case 'postgres':
      return postgresReader(config);
  }
}

/** Folds everything a reader holds. */
export async function foldReader(reader: JournalReader): Promise<JournalState> {
  const events: JournalEvent[] = [];
  for await (const { event } of reader.events()) events.push(event);
  return foldJournal(events);
}

async function sqliteReader(path: string): Promise<JournalReader> {
  const db: Database = await openDatabase(path, true);
  let fresh: boolean;
  try {
    fresh = checkJournal(db, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return {
    description: `sqlite ${path}`,
    schemaVersion: fresh ? JOURNAL_SCHEMA_VERSION : (db.pragma('user_version', { simple: true }) as number),
    async *events() {
      if (fresh) return;
      for (const { seq, event } of readEvents(db, path)) yield { position: `seq ${seq}`, event };
    },
    totals: async () => (fresh ? { confirmed: 0, deadLettered: 0 } : readTotals(db, path)),
    close: async () => {
      db.close();
    },
  };
}

async function redisReader(url: string, prefix: string): Promise<JournalReader> {
  const redis = await connectRedis(url);
  const keys = new RedisKeys(prefix);
  const stored = await redis.get(keys.schema);
  const version = stored === null ? JOURNAL_SCHEMA_VERSION : Number(stored);
  if (version > JOURNAL_SCHEMA_VERSION) {
    redis.disconnect();
    throw new JournalError(
      'JOURNAL_TOO_NEW',
      `the redis journal ${prefix} was written by a newer ferry (schema ${version}; this ferry reads up to ${JOURNAL_SCHEMA_VERSION})`,
    );
  }
  return {
    description: `redis ${prefix} at ${url.replace(/\/\/[^@/]*@/, '//***@')}`,
    schemaVersion: version,
    async *events() {
      for await (const entry of readStream(redis, keys)) {
        if (entry.error !== undefined) throw entry.error;
        yield { position: `entry ${entry.id}`, event: entry.event };
      }
    },
    totals: async () => {
      const totals = await redis.hgetall(keys.totals);
      return { confirmed: Number(totals.confirmed ?? 0), deadLettered: Number(totals['dead-lettered'] ?? 0) };
    },
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
