/**
 * `enqueue()`: a message written into ferry's outbox through the caller's own connection, inside the
 * caller's transaction. Committed, ferry owns it (a relay publishes it); rolled back, it never existed.
 * The statement's trigger notifies the relays, and PostgreSQL delivers that notification at commit.
 */
import { FerryError } from '../errors.js';
import { PRODUCER_DEFAULTS } from '../producer/defaults.js';
import { type PublishRequest, type RequestLimits, toOutboundMessage } from '../producer/publish-request.js';
import { acceptedColumns } from './outbox-rows.js';
import { outboxSchema } from './outbox-schema.js';
import type { Queryable } from './queryable.js';

/** Options of {@link enqueue}; the relay's producer options should agree with them. */
export interface EnqueueOptions {
  /** The outbox's schema; `ferry` by default. */
  readonly schema?: string;
  /** Bodies above this many bytes are refused; 16 MiB by default, as `publish()` (`publish.maxMessageBytes`). */
  readonly maxMessageBytes?: number;
  /** Set as every message's AMQP `appId`. */
  readonly appId?: string;
  /** Set AMQP `timestamp` (enqueue time); off by default. */
  readonly timestamp?: boolean;
}

function insertSql(table: string): string {
  return `INSERT INTO ${table} (message_id, exchange, routing_key, properties, content, accepted_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::bytea[], $6::bigint[])
ON CONFLICT (message_id) DO NOTHING`;
}

/**
 * Writes messages into the outbox in one statement, in the transaction `db` is in (none: its own).
 * All or nothing: an invalid request throws before anything is written. A message id already waiting
 * in the outbox is not added twice.
 *
 * @param db - a node-postgres `Client`, `PoolClient` or `Pool`, or an adapter's result
 *   ({@link fromDrizzle}, {@link fromKnex}, {@link fromKysely}).
 * @returns the message ids, in the order given: the consumers' idempotency keys.
 * @throws FerryError `INVALID_MESSAGE` naming every problem; `INVALID_OPTIONS` when `db` cannot query.
 */
export async function enqueueMany(
  db: Queryable,
  requests: readonly PublishRequest[],
  options: EnqueueOptions = {},
): Promise<string[]> {
  if (typeof db?.query !== 'function') {
    throw new FerryError(
      'INVALID_OPTIONS',
      'enqueue needs a node-postgres Client, PoolClient or Pool, or an adapter (fromDrizzle, fromKnex, fromKysely)',
    );
  }
  if (!Array.isArray(requests)) throw new FerryError('INVALID_MESSAGE', 'enqueueMany takes an array');
  const table = outboxSchema(options.schema).outbox;
  const limits: RequestLimits = {
    maxMessageBytes: options.maxMessageBytes ?? PRODUCER_DEFAULTS.publish.maxMessageBytes,
    appId: options.appId,
    timestamp: options.timestamp ?? false,
  };
  const now = Date.now();
  const messages = requests.map((request) => toOutboundMessage(request, now, limits));
  if (messages.length === 0) return [];
  const c = acceptedColumns(messages);
  await db.query(insertSql(table), [
    c.ids,
    c.exchanges,
    c.routingKeys,
    c.properties,
    c.contents,
    c.acceptedAt,
  ]);
  return c.ids;
}

/**
 * Writes one message into the outbox, in the transaction `db` is in; see {@link enqueueMany}.
 *
 * ```ts
 * await client.query('BEGIN');
 * await client.query('INSERT INTO shares (id) VALUES ($1)', [shareId]);
 * const messageId = await enqueue(client, { exchange: 'bookmarkai.ml', routingKey: 'ml.embed', body });
 * await client.query('COMMIT');
 * ```
 *
 * @returns the message id.
 */
export async function enqueue(
  db: Queryable,
  request: PublishRequest,
  options: EnqueueOptions = {},
): Promise<string> {
  const [id] = await enqueueMany(db, [request], options);
  return id as string;
}
