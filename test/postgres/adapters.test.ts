/**
 * `enqueue` inside real Drizzle (node-postgres), Knex and Kysely transactions: a commit keeps the
 * application's row and the outbox row together, a rollback keeps neither.
 */
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import knex from 'knex';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue, enqueueMany, fromDrizzle, fromKnex, fromKysely } from '../../src/postgres/index.js';
import { migrate } from '../../src/postgres/migrations.js';
import { OutboxSchema } from '../../src/postgres/outbox-schema.js';
import type { Queryable } from '../../src/postgres/queryable.js';
import { createTestDatabase, type TestDatabase } from './support.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('adapters');
  await migrate(db.pool, new OutboxSchema());
  await db.pool.query('CREATE TABLE shares (id text PRIMARY KEY)');
});
afterAll(async () => {
  await db?.drop();
});

class Rollback extends Error {}

/** Runs `transaction` (which inserts share `id` and enqueues through its adapter), committing or not. */
type InTransaction = (
  id: string,
  write: (tx: Queryable) => Promise<string[]>,
  commit: boolean,
) => Promise<string[]>;

async function stored(ids: readonly string[]): Promise<{ shares: number; outbox: unknown[] }> {
  const shares = await db.pool.query('SELECT count(*)::int AS n FROM shares WHERE id = ANY($1)', [ids]);
  const outbox = await db.pool.query(
    `SELECT message_id, routing_key, convert_from(content, 'UTF8') AS body, properties->>'contentType' AS type
     FROM ferry.outbox WHERE message_id = ANY($1) ORDER BY seq`,
    [ids],
  );
  return { shares: shares.rows[0].n, outbox: outbox.rows };
}

async function check(name: string, inTransaction: InTransaction): Promise<void> {
  const write = (tx: Queryable) =>
    enqueueMany(tx, [
      { exchange: 'bookmarkai.ml', routingKey: 'ml.embed', messageId: `${name}-a`, body: { share: name } },
      { exchange: 'bookmarkai.ml', routingKey: 'ml.embed', messageId: `${name}-b`, body: 'text' },
    ]);
  const rolled = await inTransaction(`${name}-rolled`, write, false).catch((error: unknown) => {
    if (error instanceof Rollback) return [`${name}-a`, `${name}-b`];
    throw error;
  });
  expect(await stored([`${name}-rolled`, ...rolled])).toEqual({ shares: 0, outbox: [] });
  const ids = await inTransaction(`${name}-kept`, write, true);
  expect(ids).toEqual([`${name}-a`, `${name}-b`]);
  expect(await stored([`${name}-kept`, ...ids])).toEqual({
    shares: 1,
    outbox: [
      {
        message_id: `${name}-a`,
        routing_key: 'ml.embed',
        body: JSON.stringify({ share: name }),
        type: 'application/json',
      },
      { message_id: `${name}-b`, routing_key: 'ml.embed', body: 'text', type: 'text/plain; charset=utf-8' },
    ],
  });
  await db.pool.query('DELETE FROM ferry.outbox');
}

describe('adapters', () => {
  it('node-postgres Client', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await check('client', async (id, write, commit) => {
        await client.query('BEGIN');
        await client.query('INSERT INTO shares VALUES ($1)', [id]);
        const ids = await write(client);
        await client.query(commit ? 'COMMIT' : 'ROLLBACK');
        return ids;
      });
    } finally {
      await client.end();
    }
  });

  it('Drizzle (node-postgres)', async () => {
    const orm = drizzle(db.pool);
    await check('drizzle', (id, write, commit) =>
      orm.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO shares VALUES (${id})`);
        const ids = await write(fromDrizzle(tx));
        if (!commit) throw new Rollback();
        return ids;
      }),
    );
  });

  it('Knex', async () => {
    const k = knex({ client: 'pg', connection: db.url, pool: { min: 0, max: 2 } });
    try {
      await check('knex', (id, write, commit) =>
        k.transaction(async (trx) => {
          await trx('shares').insert({ id });
          const ids = await write(fromKnex(trx));
          if (!commit) throw new Rollback();
          return ids;
        }),
      );
    } finally {
      await k.destroy();
    }
  });

  it('Kysely', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const k = new Kysely<{ shares: { id: string } }>({ dialect: new PostgresDialect({ pool }) });
    try {
      await check('kysely', (id, write, commit) =>
        k.transaction().execute(async (trx) => {
          await trx.insertInto('shares').values({ id }).execute();
          const ids = await write(fromKysely(trx));
          if (!commit) throw new Rollback();
          return ids;
        }),
      );
    } finally {
      await k.destroy();
    }
  });

  it('one message through a pool, outside any transaction', async () => {
    const id = await enqueue(db.pool, { exchange: '', routingKey: 'q', body: Buffer.from([1, 2]) });
    const row = await db.pool.query('SELECT content FROM ferry.outbox WHERE message_id = $1', [id]);
    expect(row.rows[0].content).toEqual(Buffer.from([1, 2]));
  });
});
