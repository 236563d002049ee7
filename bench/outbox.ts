/**
 * The transactional outbox, three figures on the shared PostgreSQL and RabbitMQ:
 *
 * 1. the cost `enqueue` adds to a transaction that inserts one row: p50 and p99 of
 *    `BEGIN; INSERT; COMMIT` against `BEGIN; INSERT; enqueue; COMMIT`, alternated, one client;
 * 2. relay throughput: 1 and then 3 relays (each a child process, so each has its own core time) run
 *    while `--messages` rows of 1 KiB are committed in one transaction; msg/s from that commit until
 *    the outbox is empty;
 * 3. commit-to-delivery latency at a steady `--rate` tasks/s for `--seconds`, one task per transaction,
 *    one relay: from the moment COMMIT returns to the moment a consumer has the message (an upper bound
 *    of commit-to-confirm), p50 and p99.
 *
 *   npx tsx bench/outbox.ts [--messages 50000] [--samples 2000] [--rate 1000] [--seconds 20] [--relays 1,3]
 *
 * Each run makes its own database (dropped after) and its own queue (deleted after). Compare the relay
 * throughput with amqplib routed from `bench/run.ts` in the same session.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import amqplib from 'amqplib';
import pg from 'pg';
import { enqueue, enqueueMany } from '../src/postgres/enqueue.js';
import { migrate } from '../src/postgres/migrations.js';
import { OutboxSchema } from '../src/postgres/outbox-schema.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '50000' },
    samples: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    relays: { type: 'string', default: '1,3' },
    'relay-child': { type: 'boolean', default: false },
  },
});

const BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672';
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const BODY = 'a'.repeat(1_024);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms (n=${sorted.length})`;
}

/** A database and a queue of the run's own. */
async function setUp(): Promise<{ url: string; queue: string; tearDown(): Promise<void> }> {
  const tag = randomBytes(4).toString('hex');
  const name = `ferry_bench_${tag}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const queue = `ferry-bench-outbox-${tag}`;
  const connection = await amqplib.connect(BROKER_URL);
  const channel = await connection.createChannel();
  await channel.assertQueue(queue, { durable: true });
  await connection.close();
  return {
    url: ADMIN_URL.replace(/\/[^/]*$/, `/${name}`),
    queue,
    tearDown: async () => {
      const cleanup = await amqplib.connect(BROKER_URL);
      await (await cleanup.createChannel()).deleteQueue(queue);
      await cleanup.close();
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

async function enqueueCost(url: string, samples: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE TABLE bench_rows (id bigserial PRIMARY KEY, body text)');
  const plain: number[] = [];
  const withEnqueue: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    for (const withTask of [false, true]) {
      const started = performance.now();
      await client.query('BEGIN');
      await client.query('INSERT INTO bench_rows (body) VALUES ($1)', ['share']);
      if (withTask) await enqueue(client, { exchange: '', routingKey: 'unused', body: BODY });
      await client.query('COMMIT');
      (withTask ? withEnqueue : plain).push(performance.now() - started);
    }
  }
  await client.end();
  console.log(`one-row transaction:            ${summary(plain)}`);
  console.log(`one-row transaction + enqueue:  ${summary(withEnqueue)}`);
}

function startRelay(url: string): Promise<ChildProcess> {
  const child = fork(fileURLToPath(import.meta.url), ['--relay-child'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, FERRY_BENCH_PG: url },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`relay exited (${code})`)));
  });
}

async function stopRelay(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function outboxCount(pool: pg.Pool): Promise<number> {
  return (await pool.query('SELECT count(*)::int AS n FROM ferry.outbox')).rows[0].n as number;
}

async function relayThroughput(url: string, queue: string, messages: number, relays: number): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const children = await Promise.all(Array.from({ length: relays }, () => startRelay(url)));
  // All rows become visible at one commit, with the relays already running: the clock starts there.
  const client = await pool.connect();
  await client.query('BEGIN');
  for (let from = 0; from < messages; from += 1_000) {
    const count = Math.min(1_000, messages - from);
    await enqueueMany(
      client,
      Array.from({ length: count }, () => ({ exchange: '', routingKey: queue, body: BODY })),
    );
  }
  await client.query('COMMIT');
  client.release();
  const started = performance.now();
  while ((await outboxCount(pool)) > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  const seconds = (performance.now() - started) / 1_000;
  await Promise.all(children.map(stopRelay));
  await pool.end();
  console.log(
    `relay throughput, ${relays} relay(s): ${Math.round(messages / seconds)} msg/s (${messages} in ${seconds.toFixed(2)} s from their commit)`,
  );
}

async function commitToDelivery(url: string, queue: string, rate: number, seconds: number): Promise<void> {
  const relay = await startRelay(url);
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  const connection = await amqplib.connect(BROKER_URL);
  const channel = await connection.createChannel();
  await channel.purgeQueue(queue);
  await channel.consume(
    queue,
    (message) => {
      const at = committedAt.get(String(message?.properties.messageId));
      if (at !== undefined) latencies.push(performance.now() - at);
    },
    { noAck: true },
  );
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const total = rate * seconds;
  const started = performance.now();
  for (let i = 0; i < total; i += 1) {
    const due = started + (i * 1_000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    await client.query('BEGIN');
    const id = await enqueue(client, { exchange: '', routingKey: queue, body: BODY });
    await client.query('COMMIT');
    committedAt.set(id, performance.now());
  }
  const deadline = performance.now() + 30_000;
  while (latencies.length < total && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const achieved = total / ((performance.now() - started) / 1_000);
  await client.end();
  await connection.close();
  await stopRelay(relay);
  console.log(`commit-to-delivery at ${rate}/s (achieved ~${Math.round(achieved)}/s): ${summary(latencies)}`);
}

async function relayChild(): Promise<void> {
  const { createProducer } = await import('../src/producer/producer.js');
  const relay = createProducer({
    journal: { kind: 'postgres', url: process.env.FERRY_BENCH_PG ?? '', migrate: false },
    connection: { url: BROKER_URL },
    topology: { declare: false },
  });
  await relay.start();
  process.send?.('started');
  process.once('SIGTERM', () => {
    relay.close({ timeoutMs: 5_000 }).finally(() => process.exit(0));
  });
}

async function main(): Promise<void> {
  if (values['relay-child']) return relayChild();
  const relayCounts = (values.relays ?? '1,3').split(',').map(Number);
  {
    const run = await setUp();
    try {
      const pool = new pg.Pool({ connectionString: run.url, max: 1 });
      await migrate(pool, new OutboxSchema());
      await pool.end();
      await enqueueCost(run.url, Number(values.samples));
      await commitToDelivery(run.url, run.queue, Number(values.rate), Number(values.seconds));
    } finally {
      await run.tearDown();
    }
  }
  for (const relays of relayCounts) {
    const run = await setUp();
    try {
      const pool = new pg.Pool({ connectionString: run.url, max: 1 });
      await migrate(pool, new OutboxSchema());
      await pool.end();
      await relayThroughput(run.url, run.queue, Number(values.messages), relays);
    } finally {
      await run.tearDown();
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
