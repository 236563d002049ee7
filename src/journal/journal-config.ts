/**
 * The journal backends' settings: what `createProducer({ journal })` takes. A module without driver
 * imports, so that naming a journal's settings never needs better-sqlite3's, ioredis's or pg's typings.
 */
import type { PgPool } from '../postgres/queryable.js';

/** Batching options common to the durable backends. */
export interface BatchingOptions {
  /**
   * Longest a commit waits to gather more events, ms. 0 (the default) writes on the next turn of the
   * event loop: every publish made in the same turn shares one transaction.
   */
  readonly groupCommitMs?: number | undefined;
  /** A batch this large is written at once (default 2,000 events). */
  readonly maxBatch?: number | undefined;
  /** Told about failed writes no caller waited for (outcome events); `process.emitWarning` by default. */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** What a commit survives: a crash of the process, or also a power loss (an fsync per batch). */
export type Durability = 'process' | 'power';

/** Options of `SqliteJournal` (`ferry/adapters`). */
export interface SqliteJournalOptions extends BatchingOptions {
  /** The journal file; created when missing. */
  readonly path: string;
  readonly durability?: Durability | undefined;
  /**
   * A WAL file larger than this is emptied by a `TRUNCATE` checkpoint, bytes; 32 MiB by default. It
   * bounds the journal's disk use under a sustained load, when passive checkpoints never catch up.
   */
  readonly walTruncateBytes?: number | undefined;
}

/** Options of `RedisJournal` (`ferry/adapters`). */
export interface RedisJournalOptions extends BatchingOptions {
  /** `redis://host:port/db` or `rediss://…`. */
  readonly url: string;
  /** Key prefix; the instances that share retry state use the same one. Default `ferry`. */
  readonly keyPrefix?: string | undefined;
  /**
   * This instance's name, unique among live instances. Restarted under the same name, an instance
   * takes its own messages back at once instead of waiting for another to claim them. Default: host,
   * pid and a random suffix.
   */
  readonly instanceId?: string | undefined;
  /** How long an instance that stopped renewing keeps its messages before another claims them. Default 15 s. */
  readonly leaseMs?: number | undefined;
}

/** Options of `PostgresJournal` (`ferry/adapters`): the outbox relay. */
export interface PostgresJournalOptions extends BatchingOptions {
  /** `postgres://user@host:port/db`; or give {@link PostgresJournalOptions.pool}. */
  readonly url?: string | undefined;
  /** A node-postgres `Pool` of the application's; ferry does not end it. */
  readonly pool?: PgPool | undefined;
  /** The schema the outbox lives in; `ferry` by default. */
  readonly schema?: string | undefined;
  /** This relay's name in the `leases` table. Default: host, pid and a random suffix. */
  readonly relayId?: string | undefined;
  /** How long a relay that stopped renewing keeps its rows before another takes them. Default 15 s. */
  readonly leaseMs?: number | undefined;
  /** The longest a relay waits for a notification before looking for rows anyway. Default 1 s. */
  readonly pollMs?: number | undefined;
  /** The most unfinished messages one relay holds at once; it claims more as they finish. Default 2,000. */
  readonly maxClaimed?: number | undefined;
  /** Create or upgrade the schema at open (default); `false` only checks that it is current. */
  readonly migrate?: boolean | undefined;
}

/** Which journal to use and how. */
export type JournalConfig =
  /** Nothing survives the process: for tests, and for users who accept losing unconfirmed messages. */
  | { readonly kind: 'memory' }
  /** One sqlite file: the embedded, durable default of the service and the CLI. */
  | ({ readonly kind: 'sqlite' } & Omit<SqliteJournalOptions, 'onError'>)
  /** Redis Streams shared by several instances, each owning its messages under a lease. */
  | ({ readonly kind: 'redis' } & Omit<RedisJournalOptions, 'onError'>)
  /** The transactional outbox on PostgreSQL (`url` or an application's `pool`), shared by relays. */
  | ({ readonly kind: 'postgres' } & Omit<PostgresJournalOptions, 'onError'>);
