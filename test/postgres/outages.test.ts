/**
 * Outages under a steady stream of enqueuing transactions: a throwaway PostgreSQL restarted mid-stream
 * (both relays reconnect; lost 0), and a throwaway RabbitMQ node stopped for a while (rows wait in the
 * outbox; all delivered once it is back).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { enqueueMany } from '../../src/postgres/enqueue.js';
import { migrate } from '../../src/postgres/migrations.js';
import { OutboxSchema } from '../../src/postgres/outbox-schema.js';
import { createProducer, type Producer } from '../../src/producer/producer.js';
import type { ProducerOptions } from '../../src/producer/producer-options.js';
import { drainQueue } from '../faults/support/scorer.js';
import { deleteTopology, SHARED_BROKER_URL, uniqueTopology } from '../integration/support/broker-objects.js';
import { FAST_OPTIONS } from '../integration/support/producer.js';
import { mergeOptions } from '../support/merge-options.js';
import { startThrowawayBroker } from '../support/throwaway-broker.js';
import { createTestDatabase, requests, type TestDatabase, waitUntil } from './support.js';
import { startThrowawayPostgres } from './throwaway-postgres.js';

/** Short, so that a relay that did not reconnect would show as an expired lease within the test. */
const LEASE_MS = 2_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Enqueues batch `n` in a transaction, trying again while PostgreSQL is away; returns its ids. */
async function enqueueBatch(db: TestDatabase, queue: string, exchange: string, n: number): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  while (true) {
    const client = await db.pool.connect().catch(() => null);
    try {
      if (client !== null) {
        await client.query('BEGIN');
        const batch = requests(queue, 'outage', 20, n * 20).map((r) => ({ ...r, exchange }));
        const ids = await enqueueMany(client, batch);
        await client.query('COMMIT');
        return ids;
      }
    } catch (error) {
      if (Date.now() > deadline) throw error;
    } finally {
      client?.release(true);
    }
    if (Date.now() > deadline) throw new Error('PostgreSQL did not come back');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function relay(options: ProducerOptions): Producer {
  const producer = createProducer(mergeOptions(FAST_OPTIONS, options));
  cleanups.push(async () => {
    await producer.close({ timeoutMs: 0 });
  });
  return producer;
}

/** PostgreSQL's clock, as text (the leases' expiry is on it). */
async function databaseNow(db: TestDatabase): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (true) {
    try {
      return (await db.pool.query('SELECT now()::text AS now')).rows[0].now as string;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function outboxCount(db: TestDatabase): Promise<number> {
  return (await db.pool.query('SELECT count(*)::int AS n FROM ferry.outbox')).rows[0].n;
}

describe('outages', () => {
  it('PostgreSQL restarted mid-stream: both relays reconnect, lost 0', async () => {
    const server = await startThrowawayPostgres();
    cleanups.push(() => server.stop());
    const db = await createTestDatabase('restart', server.adminUrl);
    cleanups.push(() => db.drop());
    const names = uniqueTopology('pg-restart');
    cleanups.push(() => deleteTopology(SHARED_BROKER_URL, names));
    const relays = ['restart-a', 'restart-b'].map((relayId) =>
      relay({
        ...names.producerOptions,
        journal: { kind: 'postgres', url: db.url, pollMs: 200, relayId, leaseMs: LEASE_MS },
      }),
    );
    await Promise.all(relays.map((producer) => producer.start()));
    const enqueued: string[] = [];
    let restartedAt = '';
    for (let n = 0; n < 30; n += 1) {
      if (n === 10) {
        await server.restart();
        restartedAt = await databaseNow(db);
      }
      enqueued.push(...(await enqueueBatch(db, names.queue, names.exchange, n)));
    }
    await waitUntil(
      async () => (await outboxCount(db).catch(() => -1)) === 0,
      'the outbox to be emptied',
      60_000,
    );
    const deliveries = await drainQueue(SHARED_BROKER_URL, names.queue);
    const delivered = new Set(deliveries.map((d) => d.messageId));
    expect(enqueued.filter((id) => !delivered.has(id))).toEqual([]);
    expect(delivered.size).toBe(600);
    // A lease that ends more than one lease after the restart was renewed over a new connection.
    await waitUntil(
      async () =>
        (
          await db.pool.query(
            `SELECT count(DISTINCT relay)::int AS n FROM ferry.leases
             WHERE expires_at > $1::timestamptz + $2 * interval '1 millisecond'`,
            [restartedAt, LEASE_MS],
          )
        ).rows[0].n === 2,
      'both relays to renew their leases after the restart',
    );
  }, 120_000);

  it('the broker stopped for a while: rows wait in the outbox, all delivered after', async () => {
    const broker = await startThrowawayBroker({ name: 'ferry-outbox' });
    cleanups.push(() => broker.stop());
    const db = await createTestDatabase('broker');
    cleanups.push(() => db.drop());
    await migrate(db.pool, new OutboxSchema());
    const names = uniqueTopology('broker-stop');
    const producer = relay(
      mergeOptions(names.producerOptions, {
        journal: { kind: 'postgres', url: db.url, pollMs: 200 },
        connection: { url: broker.url },
      }),
    );
    await producer.start();
    const enqueued: string[] = [];
    for (let n = 0; n < 5; n += 1) enqueued.push(...(await enqueueBatch(db, names.queue, names.exchange, n)));
    await waitUntil(async () => (await outboxCount(db)) === 0, 'the first rows to be published');
    await broker.ctl('stop_app');
    for (let n = 5; n < 15; n += 1)
      enqueued.push(...(await enqueueBatch(db, names.queue, names.exchange, n)));
    // The broker is away: what was enqueued meanwhile waits in the outbox.
    await waitUntil(
      () => producer.status().connection.phase !== 'connected',
      'the relay to see the broker gone',
    );
    expect(await outboxCount(db)).toBe(200);
    await broker.ctl('start_app');
    await waitUntil(async () => (await outboxCount(db)) === 0, 'the outbox to be emptied', 60_000);
    const deliveries = await drainQueue(broker.url, names.queue);
    const delivered = new Set(deliveries.map((d) => d.messageId));
    expect(enqueued.filter((id) => !delivered.has(id))).toEqual([]);
    expect(delivered.size).toBe(300);
  }, 180_000);
});
