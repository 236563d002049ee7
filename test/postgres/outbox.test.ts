/**
 * The outbox against the real PostgreSQL and RabbitMQ: what a transaction enqueues is published when,
 * and only when, it commits, with the message id `enqueue` returned, and an open transaction holds
 * nobody else up.
 */
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { enqueue, enqueueMany } from '../../src/postgres/index.js';
import { migrate } from '../../src/postgres/migrations.js';
import { OutboxSchema } from '../../src/postgres/outbox-schema.js';
import { createProducer } from '../../src/producer/producer.js';
import {
  deleteTopology,
  SHARED_BROKER_URL,
  type TestTopology,
  uniqueTopology,
} from '../integration/support/broker-objects.js';
import { FAST_OPTIONS } from '../integration/support/producer.js';
import { mergeOptions } from '../support/merge-options.js';
import { createTestDatabase, QueueCollector, requests, type TestDatabase, waitUntil } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  readonly db: TestDatabase;
  readonly names: TestTopology;
  readonly collector: QueueCollector;
}

/** A database, a topology, a relay on both, and a consumer on the queue. */
async function setup(label: string): Promise<Setup> {
  const db = await createTestDatabase(label);
  cleanups.push(() => db.drop());
  const names = uniqueTopology(label);
  cleanups.push(() => deleteTopology(SHARED_BROKER_URL, names));
  const relay = createProducer(
    mergeOptions(FAST_OPTIONS, names.producerOptions, {
      journal: { kind: 'postgres', url: db.url, pollMs: 250 },
    }),
  );
  cleanups.push(async () => {
    await relay.close({ timeoutMs: 0 });
  });
  await relay.start();
  const collector = await QueueCollector.start(SHARED_BROKER_URL, names.queue);
  cleanups.push(() => collector.close());
  return { db, names, collector };
}

async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  commit = true,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query(commit ? 'COMMIT' : 'ROLLBACK');
    return result;
  } finally {
    client.release();
  }
}

describe('postgres outbox', () => {
  it('publishes a committed transaction with the ids enqueue returned, and nothing of a rolled-back one', async () => {
    const { db, names, collector } = await setup('commit');
    await db.pool.query('CREATE TABLE shares (id text PRIMARY KEY)');
    const rolledBack = await inTransaction(
      db.pool,
      async (client) => {
        await client.query(`INSERT INTO shares VALUES ('gone')`);
        return enqueueMany(
          client,
          requests(names.queue, 'rolled', 5).map((r) => ({ ...r, exchange: names.exchange })),
        );
      },
      false,
    );
    const committed = await inTransaction(db.pool, async (client) => {
      await client.query(`INSERT INTO shares VALUES ('kept')`);
      // No message ids given: enqueue makes them, and the test expects those.
      const batch = requests(names.queue, 'kept', 20).map((r) => ({
        exchange: names.exchange,
        routingKey: r.routingKey,
        body: r.body,
      }));
      return enqueueMany(client, batch);
    });
    expect(committed).toHaveLength(20);
    expect(new Set(committed).size).toBe(20);
    await waitUntil(() => collector.has(committed), 'the committed messages');
    // The rolled-back ids were written before the committed ones: had they existed, they would be here.
    expect(rolledBack).toHaveLength(5);
    for (const id of rolledBack) expect(collector.counts.has(id)).toBe(false);
    expect(collector.deliveries).toHaveLength(20);
    const delivered = collector.deliveries.map((m) => m.properties.messageId as string);
    expect(new Set(delivered)).toEqual(new Set(committed));
    await waitUntil(
      async () => (await db.pool.query('SELECT count(*)::int AS n FROM ferry.outbox')).rows[0].n === 0,
      'the outbox to be emptied',
    );
    const totals = await db.pool.query(
      `SELECT count::int AS n FROM ferry.totals WHERE outcome = 'confirmed'`,
    );
    expect(totals.rows[0].n).toBe(20);
  });

  it('publishes a transaction held open only once it commits, and publishes others meanwhile', async () => {
    const { db, names, collector } = await setup('open');
    const held = await db.pool.connect();
    try {
      await held.query('BEGIN');
      const heldId = await enqueue(held, { exchange: names.exchange, routingKey: names.queue, body: 'held' });
      const others: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        others.push(
          await enqueue(db.pool, { exchange: names.exchange, routingKey: names.queue, body: `other ${i}` }),
        );
      }
      await waitUntil(() => collector.has(others), 'the other transactions to be published');
      expect(collector.counts.has(heldId)).toBe(false);
      await held.query('COMMIT');
      await waitUntil(() => collector.has([heldId]), 'the held transaction after its commit', 5_000);
      expect(collector.deliveries).toHaveLength(4);
    } finally {
      held.release();
    }
  });

  it('refuses an invalid request before writing anything', async () => {
    const db = await createTestDatabase('invalid');
    cleanups.push(() => db.drop());
    await migrate(db.pool, new OutboxSchema());
    await expect(
      enqueueMany(db.pool, [
        { exchange: 'x', routingKey: 'ok', body: 'fine' },
        { exchange: 'x', routingKey: 'y'.repeat(300), body: 'bad' },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    await expect(enqueue({} as pg.Pool, { exchange: 'x', routingKey: 'y', body: 1 })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    const left = await db.pool.query('SELECT count(*)::int AS n FROM ferry.outbox');
    expect(left.rows[0].n).toBe(0);
  });
});
