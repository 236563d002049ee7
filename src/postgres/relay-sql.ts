/**
 * The relay's statements. Each is one statement, so each is atomic on its own and costs one round trip
 * (the claim too: a function that carries its own planner settings, see claim-rows.ts).
 *
 * Claiming uses `FOR UPDATE SKIP LOCKED`: relays claiming at once take disjoint rows without waiting
 * for each other, and rows an open transaction inserted are not visible yet, so they hold nobody up.
 * A claimed row carries the claimer's lease epoch; every write names that epoch and is refused (matches
 * nothing) once the lease has expired or the row was taken over, which is the fencing.
 *
 * @internal
 */

import type { OutboxSchema } from './outbox-schema.js';

const live = (s: OutboxSchema) => `SELECT 1 FROM ${s.leases} WHERE epoch = $1 AND expires_at > now()`;

/** A new lease: `$1` relay name, `$2` lease ms. Returns `epoch`. */
export const takeLeaseSql = (s: OutboxSchema) =>
  `INSERT INTO ${s.leases} (relay, expires_at) VALUES ($1, now() + $2 * interval '1 millisecond')
RETURNING epoch::text AS epoch`;

/** Extends lease `$1` by `$2` ms if it has not expired; no row when it has. */
export const renewLeaseSql = (s: OutboxSchema) =>
  `UPDATE ${s.leases} SET expires_at = now() + $2 * interval '1 millisecond'
WHERE epoch = $1 AND expires_at > now() RETURNING epoch`;

/** Forgets leases that expired a while ago and own no rows any more. */
export const pruneLeasesSql = (s: OutboxSchema) =>
  `DELETE FROM ${s.leases} l WHERE l.expires_at < now() - interval '1 minute'
AND NOT EXISTS (SELECT 1 FROM ${s.outbox} o WHERE o.lease_epoch = l.epoch)`;

/**
 * Claims up to `$2` rows for lease `$1`, if that lease is live: the oldest rows after `seq` `$3` that
 * are unclaimed or held by an expired lease, in one walk of the primary key (it passes over the rows
 * live relays hold, at most their `maxClaimed` each, and where the walk starts is claim-cursor.ts's
 * call). Returns them as `ClaimedRow`s (outbox-rows.ts). The statement is the schema's `claim`
 * function (migrations 3 and 4), which carries the planner settings that keep it on that walk: see
 * claim-rows.ts.
 */
export const claimSql = (s: OutboxSchema) => `SELECT * FROM ${s.quoted}.claim($1, $2, $3)`;

/**
 * One journal batch under lease `$1`: inserts the messages this relay accepted itself (`$2`-`$8`, their
 * first events in `$8`), appends later events to rows it holds (`$9` ids, `$10` JSON arrays), deletes
 * the rows of confirmed messages (`$13` the `seq`s of rows it claimed, `$11` the ids of the others) and
 * of dead-lettered ones (`$12` ids) and counts them. Nothing is written when the lease has expired:
 * `live` is then 0.
 *
 * Claimed rows are deleted by `seq`, the primary key, rather than by message id: a claimed row's `seq`
 * is known, and finding 500 rows by `bigint` cost PostgreSQL about 2 µs of CPU a row less than by
 * their text ids through the unique index (measured with claim-and-delete alone on 1 KiB rows); every
 * relayed row is deleted once, so that is PostgreSQL's share of the relay, not the application's.
 */
export const writeSql = (s: OutboxSchema) =>
  `WITH fence AS (${live(s)}), added AS (
  INSERT INTO ${s.outbox} (message_id, exchange, routing_key, properties, content, accepted_at, events, lease_epoch, claims)
  SELECT i.*, $1, 1 FROM unnest($2::text[], $3::text[], $4::text[], $5::jsonb[], $6::bytea[], $7::bigint[], $8::jsonb[]) AS i
  WHERE EXISTS (SELECT 1 FROM fence)
  ON CONFLICT (message_id) DO NOTHING RETURNING 1
), appended AS (
  UPDATE ${s.outbox} o SET events = o.events || u.events
  FROM unnest($9::text[], $10::jsonb[]) AS u(message_id, events)
  WHERE o.message_id = u.message_id AND o.lease_epoch = $1 AND EXISTS (SELECT 1 FROM fence) RETURNING 1
), finished_by_id AS (
  DELETE FROM ${s.outbox} o WHERE o.message_id = ANY($11::text[] || $12::text[]) AND o.lease_epoch = $1
  AND EXISTS (SELECT 1 FROM fence)
  RETURNING o.message_id = ANY($12::text[]) AS dead
), finished_by_seq AS (
  DELETE FROM ${s.outbox} o WHERE o.seq = ANY($13::bigint[]) AND o.lease_epoch = $1
  AND EXISTS (SELECT 1 FROM fence)
  RETURNING false AS dead
), finished AS (
  SELECT dead FROM finished_by_id UNION ALL SELECT dead FROM finished_by_seq
), counted AS (
  UPDATE ${s.totals} t SET count = t.count + (SELECT count(*) FROM finished f
    WHERE f.dead = (t.outcome = 'dead-lettered'))
  WHERE EXISTS (SELECT 1 FROM finished)
)
SELECT (SELECT count(*) FROM fence)::int AS live`;

/**
 * Hands lease `$1`'s rows back unclaimed, ends the lease and wakes the other relays (channel `$2`). The
 * lease is expired rather than deleted: a claim that raced with this statement leaves rows under it,
 * and those must stay claimable (lapsed) until {@link pruneLeasesSql} finds the lease empty.
 */
export const releaseSql = (s: OutboxSchema) =>
  `WITH released AS (
  UPDATE ${s.outbox} SET lease_epoch = NULL WHERE lease_epoch = $1 RETURNING 1
), ended AS (
  UPDATE ${s.leases} SET expires_at = now() - interval '1 millisecond' WHERE epoch = $1
)
SELECT pg_notify($2, '') FROM (SELECT count(*) AS n FROM released) r WHERE r.n > 0`;
