/**
 * Versioned migrations of the outbox schema. `migrate()` applies the missing ones in one transaction
 * under a transaction-level advisory lock, so relays that start together migrate once and the others
 * wait and find nothing to do; a schema newer than this ferry is refused before anything is changed.
 * `migrationSql()` is the same SQL for teams that run their own migration tool (`ferry migrate --print`).
 */
import { JournalError } from '../journal/journal-error.js';
import { type OutboxSchema, outboxSchema } from './outbox-schema.js';
import type { PgPool, Queryable } from './queryable.js';

/** One migration: the SQL that brings the schema from `version - 1` to `version`. */
export interface Migration {
  readonly version: number;
  readonly sql: string;
}

function migrations(s: OutboxSchema): readonly Migration[] {
  return [
    {
      version: 1,
      sql: `CREATE TABLE ${s.outbox} (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id text NOT NULL UNIQUE,
  exchange text NOT NULL,
  routing_key text NOT NULL,
  properties jsonb NOT NULL DEFAULT '{}',
  content bytea NOT NULL,
  accepted_at bigint NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
  events jsonb NOT NULL DEFAULT '[]',
  lease_epoch bigint,
  claims integer NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unclaimed ON ${s.outbox} (seq) WHERE lease_epoch IS NULL;
CREATE INDEX outbox_leased ON ${s.outbox} (lease_epoch) WHERE lease_epoch IS NOT NULL;
CREATE TABLE ${s.leases} (
  epoch bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  relay text NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE TABLE ${s.totals} (outcome text PRIMARY KEY, count bigint NOT NULL DEFAULT 0);
INSERT INTO ${s.totals} (outcome) VALUES ('confirmed'), ('dead-lettered');
CREATE FUNCTION ${s.quoted}.notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM inserted WHERE lease_epoch IS NULL) THEN
    PERFORM pg_notify('${s.channel}', '');
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON ${s.outbox}
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ${s.quoted}.notify_outbox();`,
    },
    {
      // Claims rewrite every row they take. With no index on lease_epoch and room left on each page,
      // that rewrite is a HOT update: the new row version stays on its page, no index gets an entry,
      // and its WAL is the changed bytes instead of the whole row (measured: PostgreSQL's CPU per
      // relayed message 40 → 26 µs). Claims find their rows by walking the primary key instead.
      version: 2,
      sql: `DROP INDEX ${s.quoted}.outbox_unclaimed;
DROP INDEX ${s.quoted}.outbox_leased;
ALTER TABLE ${s.outbox} SET (fillfactor = 50);`,
    },
    {
      // The claim as a function, called as one prepared statement (claim-rows.ts). Sent as text, each
      // claim was parsed and planned anew inside a transaction of its own that carried its planner
      // settings (BEGIN; SET LOCAL …; claim; COMMIT), which is most of what a claim costs PostgreSQL at
      // a steady rate, where a relay claims a row or two at a time (bench/claim-cost.ts). The function
      // carries its settings itself and keeps one plan, made without the outbox's statistics in mind:
      // a plan kept for any `room` cannot know the room, and a queue table's statistics are rarely
      // right (see claim-rows.ts). Sorting and bitmap scans are off so that the claimable rows are
      // found by walking the primary key; hash and merge joins are off so that the claimed rows are
      // updated through the primary key too: with the statistics of a 20,000-row backlog, the kept
      // plan otherwise read the whole table for every claim (test/postgres/relay-journal.test.ts).
      // The statement is the one relays sent as text before, unchanged.
      version: 3,
      sql: `CREATE FUNCTION ${s.quoted}.claim(lease bigint, room integer)
RETURNS TABLE (seq text, message_id text, exchange text, routing_key text, properties text,
  content text, accepted_at text, events text)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan
  SET enable_sort = off SET enable_bitmapscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
  RETURN QUERY WITH claimable AS (
    SELECT o.seq FROM ${s.outbox} o
    WHERE (o.lease_epoch IS NULL
      OR o.lease_epoch = ANY (ARRAY(SELECT l.epoch FROM ${s.leases} l WHERE l.expires_at <= now())))
    AND EXISTS (SELECT 1 FROM ${s.leases} l WHERE l.epoch = claim.lease AND l.expires_at > now())
    ORDER BY o.seq LIMIT claim.room FOR UPDATE SKIP LOCKED
  )
  UPDATE ${s.outbox} o SET lease_epoch = claim.lease, claims = o.claims + 1
  FROM claimable c WHERE o.seq = c.seq
  RETURNING o.seq::text, o.message_id, o.exchange, o.routing_key, o.properties::text,
    encode(o.content, 'base64'), o.accepted_at::text, o.events::text;
END $$;`,
    },
    {
      // The claim walks from the row after `after` instead of from the oldest one. A relay
      // draining a backlog claims the next rows while it still holds the last ones, and the rows it
      // deleted stay in the primary key until a vacuum: walked from the oldest row, each claim passed
      // over all of them, a cost that grew with the backlog (bench/claim-cost.ts, `backlog`). The
      // relay still walks from the start whenever it is not in such a run, and every few claims of
      // one, so that rows behind its cursor (committed late, handed back, of an expired lease) wait
      // a few claims at most (claim-cursor.ts). With `after` left out the claim is version 3's, so a
      // relay that prepared the two-argument call before this migration goes on claiming.
      version: 4,
      sql: `DROP FUNCTION ${s.quoted}.claim(bigint, integer);
CREATE FUNCTION ${s.quoted}.claim(lease bigint, room integer, after bigint DEFAULT 0)
RETURNS TABLE (seq text, message_id text, exchange text, routing_key text, properties text,
  content text, accepted_at text, events text)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan
  SET enable_sort = off SET enable_bitmapscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
  RETURN QUERY WITH claimable AS (
    SELECT o.seq FROM ${s.outbox} o
    WHERE o.seq > claim.after
    AND (o.lease_epoch IS NULL
      OR o.lease_epoch = ANY (ARRAY(SELECT l.epoch FROM ${s.leases} l WHERE l.expires_at <= now())))
    AND EXISTS (SELECT 1 FROM ${s.leases} l WHERE l.epoch = claim.lease AND l.expires_at > now())
    ORDER BY o.seq LIMIT claim.room FOR UPDATE SKIP LOCKED
  )
  UPDATE ${s.outbox} o SET lease_epoch = claim.lease, claims = o.claims + 1
  FROM claimable c WHERE o.seq = c.seq
  RETURNING o.seq::text, o.message_id, o.exchange, o.routing_key, o.properties::text,
    encode(o.content, 'base64'), o.accepted_at::text, o.events::text;
END $$;`,
    },
  ];
}

/** The newest schema version this ferry knows. */
export const OUTBOX_SCHEMA_VERSION = 4;

function bootstrap(s: OutboxSchema): string {
  return `CREATE SCHEMA IF NOT EXISTS ${s.quoted};
CREATE TABLE IF NOT EXISTS ${s.migrations} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());`;
}

/** Every statement, in order, that builds the schema from nothing: what `ferry migrate --print` shows. */
export function migrationSql(schema?: string): string {
  const s = outboxSchema(schema);
  const steps = migrations(s).map(
    (m) => `-- version ${m.version}\n${m.sql}\nINSERT INTO ${s.migrations} (version) VALUES (${m.version});`,
  );
  return `BEGIN;\n${bootstrap(s)}\n${steps.join('\n')}\nCOMMIT;\n`;
}

/**
 * The version the schema is at: 0 when it does not exist yet.
 *
 * @throws JournalError `JOURNAL_UNAVAILABLE` when PostgreSQL cannot be reached.
 */
export async function schemaVersion(db: Queryable, s: OutboxSchema): Promise<number> {
  const found = await db.query('SELECT to_regclass($1) AS table', [`${s.quoted}.migrations`]);
  if (found.rows[0]?.table === null) return 0;
  const result = await db.query(`SELECT coalesce(max(version), 0) AS version FROM ${s.migrations}`);
  return Number(result.rows[0]?.version ?? 0);
}

/** What {@link migrate} did. */
export interface MigrationResult {
  readonly from: number;
  readonly to: number;
}

function tooNew(s: OutboxSchema, version: number): JournalError {
  return new JournalError(
    'JOURNAL_TOO_NEW',
    `the outbox schema ${s.name} is at version ${version}, newer than this ferry (${OUTBOX_SCHEMA_VERSION}); nothing was changed`,
  );
}

/**
 * Brings the schema to {@link OUTBOX_SCHEMA_VERSION}; safe to run from several processes at once.
 *
 * @throws JournalError `JOURNAL_TOO_NEW` (nothing changed) when the schema is newer than this ferry.
 */
export async function migrate(pool: PgPool, schema: OutboxSchema): Promise<MigrationResult> {
  // Read first, without a lock or a write: a newer schema is refused without being touched at all.
  const seen = await schemaVersion(pool, schema);
  if (seen > OUTBOX_SCHEMA_VERSION) throw tooNew(schema, seen);
  if (seen === OUTBOX_SCHEMA_VERSION) return { from: seen, to: seen };
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ferry.migrate:${schema.name}`]);
    await client.query(bootstrap(schema));
    const from = await schemaVersion(client, schema);
    if (from > OUTBOX_SCHEMA_VERSION) throw tooNew(schema, from);
    for (const step of migrations(schema)) {
      if (step.version <= from) continue;
      await client.query(step.sql);
      await client.query(`INSERT INTO ${schema.migrations} (version) VALUES ($1)`, [step.version]);
    }
    await client.query('COMMIT');
    return { from, to: OUTBOX_SCHEMA_VERSION };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
