/**
 * Three relays share one outbox while transactions enqueue a steady stream; one relay is SIGKILLed at
 * three random points (and replaced each time). Lost: 0. Duplicates: only among the rows the killed
 * relay held unfinished when it died, counted.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { enqueueMany } from '../../src/postgres/enqueue.js';
import { migrate } from '../../src/postgres/migrations.js';
import { OutboxSchema } from '../../src/postgres/outbox-schema.js';
import { BROKER_URL, deleteTopology, drainQueue, runTopology } from '../crash/support.js';
import type { RelaySettings } from './relay-child.js';
import { createTestDatabase, requests, type TestDatabase, waitUntil } from './support.js';

const CHILD = fileURLToPath(new URL('./relay-child.ts', import.meta.url));
const BATCHES = 40;
const PER_BATCH = 50;
const LEASE_MS = 1_500;

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts a relay and resolves once it runs. */
async function startRelay(settings: RelaySettings): Promise<ChildProcess> {
  const child = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, FERRY_RELAY_CHILD: JSON.stringify(settings) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) =>
      reject(new Error(`relay ${settings.relayId} exited (${code}) before starting`)),
    );
  });
  return child;
}

/** SIGKILLs `child` and resolves once it is gone. */
async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

async function outboxCount(db: TestDatabase): Promise<number> {
  return (await db.pool.query('SELECT count(*)::int AS n FROM ferry.outbox')).rows[0].n;
}

describe('three relays, one SIGKILLed three times', () => {
  it('loses nothing; duplicates only among the killed relay unfinished rows', async () => {
    const db = await createTestDatabase('crash');
    cleanups.push(() => db.drop());
    await migrate(db.pool, new OutboxSchema());
    const run = runTopology('outbox');
    cleanups.push(() => deleteTopology(run));
    const settings = (relayId: string): RelaySettings => ({
      brokerUrl: BROKER_URL,
      databaseUrl: db.url,
      relayId,
      leaseMs: LEASE_MS,
      topology: run.options,
    });
    const survivors = await Promise.all([startRelay(settings('steady-1')), startRelay(settings('steady-2'))]);
    let victim = await startRelay(settings('victim-0'));
    const killAt = new Set<number>();
    while (killAt.size < 3) killAt.add(1 + Math.floor(Math.random() * (BATCHES - 2)));
    const exchange = run.options.exchange as string;
    const enqueued: string[] = [];
    /** Rows each killed relay held unfinished when it died: the only ones allowed to arrive twice. */
    const unfinishedAtKill = new Set<string>();
    let kills = 0;
    for (let batch = 0; batch < BATCHES; batch += 1) {
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        const batchRequests = requests(run.queue, 'crash', PER_BATCH, batch * PER_BATCH).map((r) => ({
          ...r,
          exchange,
        }));
        const ids = await enqueueMany(client, batchRequests);
        await client.query('COMMIT');
        enqueued.push(...ids);
      } finally {
        client.release();
      }
      if (killAt.has(batch)) {
        const name = `victim-${kills}`;
        await kill(victim);
        const held = await db.pool.query(
          `SELECT o.message_id FROM ferry.outbox o JOIN ferry.leases l ON l.epoch = o.lease_epoch WHERE l.relay = $1`,
          [name],
        );
        for (const row of held.rows) unfinishedAtKill.add(row.message_id);
        kills += 1;
        victim = await startRelay(settings(`victim-${kills}`));
      }
    }
    await waitUntil(async () => (await outboxCount(db)) === 0, 'the outbox to be emptied', 60_000);
    const counts = await drainQueue(run.queue);
    const lost = enqueued.filter((id) => !counts.has(id));
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    const unexpected = [...counts.keys()].filter((id) => !id.startsWith('crash-'));
    // Counted, for the report: how many of the killed relay's unfinished rows arrived twice.
    console.info(
      `outbox crash: ${enqueued.length} enqueued, ${kills} kills (after batches ${[...killAt].sort((a, b) => a - b).join(', ')}), ${unfinishedAtKill.size} unfinished at the kills, ${duplicated.length} duplicated`,
    );
    expect(kills).toBe(3);
    expect(lost).toEqual([]);
    expect(unexpected).toEqual([]);
    expect(duplicated.filter((id) => !unfinishedAtKill.has(id))).toEqual([]);
    expect(counts.size).toBe(BATCHES * PER_BATCH);
    for (const child of [...survivors, victim]) child.send('stop');
  }, 180_000);
});
