/**
 * The transactional outbox on the shared PostgreSQL and RabbitMQ, beside amqplib pipelined in the same
 * run. Each round measures, in this order:
 *
 * 1. amqplib routed: `--messages` JSON bodies of 1 KiB (bench/workload.ts), pipelined on a confirm
 *    channel with `drain` (bench/clients/amqplib.ts), without `mandatory`, through a durable direct
 *    exchange into a durable queue, in a child process; msg/s from the first publish to the last
 *    confirm, and the child's CPU per message; then amqplib alone at the steady `--rate`, each message
 *    awaited on its confirm: the broker's share of latency;
 * 2. relay throughput: 1 and then 3 relays (each a child process) run while the same number of the
 *    same bodies, addressed to the same exchange, are committed into the outbox in one transaction;
 *    msg/s from that commit until the outbox is empty, and the relays' CPU per message (their own
 *    process time, PostgreSQL's not); `--variants` adds relay rows with other journal options (an A/B
 *    in the same round). As in the routed bench (bench/run.ts), the exchange has an alternate exchange
 *    and the relays use it (the `topology.unroutable` option, docs/operations/unroutable.md): once
 *    their probe proved it they publish without `mandatory`, as amqplib does, so the broker does the
 *    same work per message for both;
 *    then `--floors` (both by default, `none` for neither): the floor relays of bench/outbox-floor.ts,
 *    the least a correct relay must do with plain `pg` and amqplib, one child each, on the same rows
 *    measured the same way: what any relay reaches on this machine, ferry's or not;
 * 3. the cost `enqueue` adds to a transaction that inserts one row: `BEGIN; INSERT; COMMIT` against
 *    `BEGIN; INSERT; enqueue; COMMIT`, alternated on one connection, p50 and p99 of each;
 * 4. latency at a steady `--rate` tasks/s for `--seconds`, one task per transaction, issued on
 *    schedule over a pool of connections, one relay: commit-to-confirm (COMMIT returning → the relay's
 *    producer reporting the confirm; each task has its own routing key, which the relay's observer
 *    names, through a fanout exchange) and commit-to-delivery (→ a consumer having it), p50 and p99.
 *
 *   npx tsx bench/outbox.ts [--rounds 3] [--messages 50000] [--samples 2000] [--rate 1000] [--seconds 20]
 *     [--relays 1,3] [--variants 'name=json;…'] [--floors floor-read,floor-claim|none] [--json report.json]
 *     [--write-docs] [--render report.json] [--profile dir]
 *
 * `--write-docs` writes the section "PostgreSQL outbox" of docs/benchmarks.md from the run (medians over
 * the rounds); `--render` does that from a saved `--json` report without running anything. Each round
 * makes its own databases (dropped after), queues and exchanges (deleted after).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import amqplib from 'amqplib';
import pg from 'pg';
import { enqueue, enqueueMany } from '../src/postgres/enqueue.js';
import { migrate } from '../src/postgres/migrations.js';
import { OutboxSchema } from '../src/postgres/outbox-schema.js';
import type { JsonValue } from '../src/producer/publish-request.js';
import {
  benchObjects,
  countMessages,
  declareObjects,
  deleteObjects,
  purge,
  sharedCtl,
  withChannel,
} from './broker.js';
import {
  BROKER_URL,
  type ChildJob,
  type ChildReport,
  quantiles,
  runChild,
  sleep,
  type Unroutable,
  wallNow,
} from './outbox-child.js';
import { type OutboxReport, type Quantiles, type RoundResult, renderOutboxSection } from './outbox-docs.js';
import { FLOORS, type Floor } from './outbox-floor.js';
import { perMessage, serviceCpu } from './service-cpu.js';
import { benchMessage } from './workload.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    messages: { type: 'string', default: '50000' },
    samples: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '16' },
    note: { type: 'string' },
    notes: { type: 'string' },
    relays: { type: 'string', default: '1,3' },
    variants: { type: 'string' },
    floors: { type: 'string', default: FLOORS.join(',') },
    json: { type: 'string' },
    'write-docs': { type: 'boolean', default: false },
    render: { type: 'string' },
    profile: { type: 'string' },
    child: { type: 'string' },
  },
});

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const SELF = fileURLToPath(import.meta.url);
const DOCS = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));

/** Body `n` of run `run`: the same 1 KiB JSON task amqplib publishes (bench/workload.ts). */
const body = (run: string, n: number) => benchMessage(run, n).body as JsonValue;

/** A round's database and broker objects. */
interface BenchSetUp {
  readonly url: string;
  /** The durable queue every run publishes into, bound to both exchanges. */
  readonly queue: string;
  /** The durable direct exchange of the throughput runs, with an alternate exchange. */
  readonly exchange: string;
  readonly unroutable: Unroutable;
  /** The steady stream's fanout exchange (a routing key per task). */
  readonly fanout: string;
  tearDown(): Promise<void>;
}

/** A throughput run fails when its queue has not grown for this long. */
const STALL_MS = 60_000;

/** A database, queues and exchanges of the round's own. */
async function setUp(): Promise<BenchSetUp> {
  const tag = randomBytes(4).toString('hex');
  const name = `ferry_bench_${tag}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  await migrate(pool, new OutboxSchema());
  await pool.end();
  // The throughput runs' objects are the routed bench's: a direct exchange whose alternate exchange
  // (set by policy) catches what nothing routes, and a durable queue bound with its own name.
  const objects = benchObjects(`outbox${tag}`);
  await declareObjects(BROKER_URL, objects, sharedCtl);
  const { exchange, queue } = objects;
  const fanout = `${queue}-fanout`;
  const connection = await amqplib.connect(BROKER_URL);
  const channel = await connection.createChannel();
  // The steady stream gives every task a routing key of its own, so the relay's observer, which sees
  // routing keys, can say when each was confirmed; the fanout exchange routes them all to the queue.
  await channel.assertExchange(fanout, 'fanout', { durable: false, autoDelete: false });
  await channel.bindQueue(queue, fanout, '');
  await connection.close();
  return {
    url,
    queue,
    exchange,
    unroutable: { alternateExchange: objects.alternateExchange, queue: objects.unroutableQueue },
    fanout,
    tearDown: async () => {
      const cleanup = await amqplib.connect(BROKER_URL);
      await (await cleanup.createChannel()).deleteExchange(fanout);
      await cleanup.close();
      await deleteObjects(BROKER_URL, objects, sharedCtl);
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A child process running `job`; resolves once it is ready (connected, nothing timed yet). */
function startChild(job: ChildJob): Promise<ChildProcess> {
  const profile = values.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values.profile}`];
  const child = fork(SELF, ['--child', job.kind], {
    execArgv: ['--import', 'tsx', ...profile],
    env: { ...process.env, FERRY_BENCH_CHILD: JSON.stringify(job) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`bench child ${job.kind} exited (${code})`)));
  });
}

/** Asks a child to stop and resolves with its report; rejects if it exits without one. */
function stopChild(child: ChildProcess): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    child.once('message', (report) => resolve(report as ChildReport));
    child.once('exit', (code) => reject(new Error(`bench child exited (${code}) instead of reporting`)));
    child.send('stop');
  });
}

/** Sends a child `message` and resolves with its answer. */
function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (answer) => resolve(answer as T));
    child.send(message as string);
  });
}

/** amqplib pipelined, then (the broker's share of any latency) publish-to-confirm at the steady rate. */
async function amqplibRuns(run: BenchSetUp, settings: OutboxReport['settings']) {
  const { messages, rate, seconds } = settings;
  const { exchange, queue } = run;
  const child = await startChild({
    kind: 'amqplib',
    url: BROKER_URL,
    exchange,
    queue,
    messages,
    journal: {},
  });
  const before = serviceCpu();
  const routed = await ask<{ ms: number; cpuMicros: number }>(child, 'go');
  const services = perMessage(before, serviceCpu(), messages);
  await purge(BROKER_URL, queue);
  const steady = await ask<{ achieved: number; confirmed: Quantiles }>(child, { rate, seconds });
  await stopChild(child);
  await purge(BROKER_URL, queue);
  return {
    msgPerSec: (messages * 1_000) / routed.ms,
    cpuMicrosPerMsg: routed.cpuMicros / messages,
    ...services,
    steady,
  };
}

/** Whether the outbox still holds a row: one step down the primary key. */
async function outboxHasRows(pool: pg.Pool): Promise<boolean> {
  return (await pool.query('SELECT 1 FROM ferry.outbox ORDER BY seq LIMIT 1')).rows.length > 0;
}

/**
 * Resolves once all `messages` are in `queue` and the outbox is empty. Progress is read from the
 * queue's depth (a passive declare on one channel: next to nothing for the broker) and PostgreSQL is
 * asked only once every message is queued. The end used to be found with `count(*)` on the outbox
 * every 5 ms, and a count reads the whole heap (130 MB for 50,000 rows at `fillfactor` 50: 16–60 ms
 * each here): the bench itself kept a PostgreSQL backend busy through the burst, on the cores the
 * relays and the broker share. Rejects when a child exited or the queue stopped growing: a child that
 * failed (a floor that found itself dishonest) or stalled would leave rows there for good.
 */
async function emptied(
  pool: pg.Pool,
  queue: string,
  messages: number,
  children: readonly ChildProcess[],
): Promise<void> {
  await withChannel(BROKER_URL, async (channel) => {
    let queued = 0;
    let movedAt = performance.now();
    for (;;) {
      if (children.some((child) => child.exitCode !== null)) throw new Error('a child exited');
      const now = queued < messages ? (await channel.checkQueue(queue)).messageCount : messages;
      if (now !== queued) [queued, movedAt] = [now, performance.now()];
      else if (performance.now() - movedAt > STALL_MS) {
        throw new Error(`${queued} of ${messages} messages queued, none more in ${STALL_MS / 1_000} s`);
      }
      if (queued >= messages && !(await outboxHasRows(pool))) return;
      await sleep(5);
    }
  });
}

/** `relays` children of `kind` (ferry's relay with `journal`, or a floor) through the burst. */
async function relayThroughput(
  run: BenchSetUp,
  messages: number,
  relays: number,
  { kind, journal }: Pick<ChildJob, 'kind' | 'journal'>,
) {
  const { url, exchange, queue, unroutable } = run;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const job: ChildJob = { kind, url, exchange, queue, unroutable, messages, journal };
  const children = await Promise.all(Array.from({ length: relays }, () => startChild(job)));
  // All rows become visible at one commit, with the relays already running: the clock starts there.
  const client = await pool.connect();
  await client.query('BEGIN');
  for (let from = 0; from < messages; from += 1_000) {
    const count = Math.min(1_000, messages - from);
    await enqueueMany(
      client,
      Array.from({ length: count }, (_, i) => ({
        exchange,
        routingKey: queue,
        body: body('outbox', from + i),
      })),
    );
  }
  await client.query('COMMIT');
  client.release();
  const before = serviceCpu();
  const started = performance.now();
  let ended = before;
  let seconds = 0;
  try {
    await emptied(pool, queue, messages, children);
    seconds = (performance.now() - started) / 1_000;
    ended = serviceCpu();
  } catch (error) {
    for (const child of children) child.kill();
    throw new Error(`${kind}: ${(error as Error).message}`, { cause: error });
  } finally {
    // Before anything else can fail: the round's teardown drops the database under idle connections.
    await pool.end();
  }
  const services = perMessage(before, ended, messages);
  const reports = await Promise.all(children.map(stopChild));
  // A floor's figure counts only if each row reached the queue exactly once.
  const queued = kind === 'relay' ? messages : await countMessages(BROKER_URL, queue);
  if (queued !== messages) throw new Error(`${kind} left ${queued} messages in the queue, not ${messages}`);
  await purge(BROKER_URL, queue);
  const cpu = reports.reduce((sum, report) => sum + report.cpuMicros, 0);
  return { msgPerSec: messages / seconds, cpuMicrosPerMsg: cpu / messages, ...services };
}

async function enqueueCost(url: string, samples: number) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE TABLE bench_rows (id bigserial PRIMARY KEY, body text)');
  const plain: number[] = [];
  const withEnqueue: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    for (const withTask of [i % 2 === 0, i % 2 !== 0]) {
      const started = performance.now();
      await client.query('BEGIN');
      await client.query('INSERT INTO bench_rows (body) VALUES ($1)', ['share']);
      if (withTask) await enqueue(client, { exchange: '', routingKey: 'unused', body: body('cost', i) });
      await client.query('COMMIT');
      (withTask ? withEnqueue : plain).push(performance.now() - started);
    }
  }
  // Nobody is to publish these: the relay of the steady stream starts on this database next.
  await client.query('DELETE FROM ferry.outbox');
  await client.end();
  return { plain: quantiles(plain), withEnqueue: quantiles(withEnqueue) };
}

/** Latencies of the routing keys in `to` that are in `from`, ms. */
function between(from: ReadonlyMap<string, number>, to: ReadonlyMap<string, number>): Quantiles {
  return quantiles(
    [...from].flatMap(([key, at]) => {
      const later = to.get(key);
      return later === undefined ? [] : [later - at];
    }),
  );
}

async function steadyStream(run: BenchSetUp, settings: OutboxReport['settings']) {
  const { rate, seconds } = settings;
  const { url, queue, fanout } = run;
  // No `unroutable` option: a fanout exchange routes the probe too, which would never come back.
  const relay = await startChild({
    kind: 'relay',
    url,
    exchange: fanout,
    queue,
    messages: 0,
    journal: {},
    timeConfirms: true,
  });
  /** Commit time of each task, by its routing key. */
  const committedAt = new Map<string, number>();
  /** First delivery of each; COMMIT's answer may reach this process after the relay published. */
  const deliveredAt = new Map<string, number>();
  let duplicates = 0;
  const connection = await amqplib.connect(BROKER_URL);
  const channel = await connection.createChannel();
  await channel.consume(
    queue,
    (message) => {
      const key = String(message?.fields.routingKey);
      if (deliveredAt.has(key)) duplicates += 1;
      else deliveredAt.set(key, wallNow());
    },
    { noAck: true },
  );
  const pool = new pg.Pool({ connectionString: url, max: settings.connections });
  const total = rate * seconds;
  const inFlight = new Set<Promise<void>>();
  const cpuBefore = serviceCpu();
  const started = performance.now();
  for (let i = 0; i < total; i += 1) {
    const wait = started + (i * 1_000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    const key = `steady-${i}`;
    const task = (async () => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await enqueue(client, { exchange: fanout, routingKey: key, body: body('steady', i) });
        await client.query('COMMIT');
        committedAt.set(key, wallNow());
      } finally {
        client.release();
      }
    })();
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  }
  await Promise.all(inFlight);
  const achieved = total / ((performance.now() - started) / 1_000);
  const deadline = performance.now() + 60_000;
  while (deliveredAt.size < total && performance.now() < deadline) await sleep(10);
  const services = perMessage(cpuBefore, serviceCpu(), total);
  const report = await stopChild(relay);
  await connection.close();
  await pool.end();
  return {
    achieved,
    confirmed: between(committedAt, new Map(report.confirmedAt)),
    delivered: between(committedAt, deliveredAt),
    missing: [...committedAt.keys()].filter((key) => !deliveredAt.has(key)).length,
    duplicates,
    relayMicros: report.cpuMicros / total,
    ...services,
  };
}

async function round(settings: OutboxReport['settings']): Promise<RoundResult> {
  const run = await setUp();
  try {
    const amqplibResult = await amqplibRuns(run, settings);
    const relays: RoundResult['relays'][number][] = [];
    for (const variant of settings.variants) {
      for (const count of variant.name === 'default' ? settings.relays : [1]) {
        const fresh = await setUp();
        try {
          const result = await relayThroughput(fresh, settings.messages, count, {
            kind: 'relay',
            journal: variant.journal,
          });
          relays.push({ variant: variant.name, relays: count, ...result });
        } finally {
          await fresh.tearDown();
        }
      }
    }
    const floors: NonNullable<RoundResult['floors']>[number][] = [];
    for (const floor of settings.floors ?? []) {
      const fresh = await setUp();
      try {
        const result = await relayThroughput(fresh, settings.messages, 1, { kind: floor, journal: {} });
        floors.push({ floor, ...result });
      } finally {
        await fresh.tearDown();
      }
    }
    const cost = await enqueueCost(run.url, settings.samples);
    const steady = await steadyStream(run, settings);
    return { amqplib: amqplibResult, relays, floors, cost, steady };
  } finally {
    await run.tearDown();
  }
}

/** `name={"maxClaimed":5000}` pairs, separated by `;`. */
function parseVariants(text: string | undefined): OutboxReport['settings']['variants'] {
  const variants: { name: string; journal: Record<string, unknown> }[] = [{ name: 'default', journal: {} }];
  for (const part of text?.split(';') ?? []) {
    const at = part.indexOf('=');
    variants.push({ name: part.slice(0, at), journal: JSON.parse(part.slice(at + 1)) });
  }
  return variants;
}

/** `floor-read,floor-claim`, or `none`. */
function parseFloors(text: string | undefined): Floor[] {
  const names = text === undefined || text === 'none' ? [] : text.split(',');
  const unknown = names.filter((name) => !(FLOORS as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new Error(`--floors: unknown ${unknown.join(', ')} (known: ${FLOORS.join(', ')})`);
  return names as Floor[];
}

function writeDocs(report: OutboxReport): void {
  const docs = readFileSync(DOCS, 'utf8');
  const section = renderOutboxSection(report);
  const at = docs.indexOf('\n## PostgreSQL outbox\n');
  const next = at < 0 ? -1 : docs.indexOf('\n## ', at + 1);
  const before = at < 0 ? docs.trimEnd() : docs.slice(0, at).trimEnd();
  const after = next < 0 ? '' : docs.slice(next);
  writeFileSync(DOCS, `${before}\n\n${section.trimEnd()}\n${after}`);
}

async function main(): Promise<void> {
  if (values.child !== undefined) return runChild();
  if (values.render !== undefined) {
    const saved = JSON.parse(readFileSync(values.render, 'utf8')) as OutboxReport;
    // Notes may be written after the run, from what it showed.
    writeDocs(values.notes === undefined ? saved : { ...saved, notes: readFileSync(values.notes, 'utf8') });
    return;
  }
  const settings: OutboxReport['settings'] = {
    rounds: Number(values.rounds),
    messages: Number(values.messages),
    samples: Number(values.samples),
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    connections: Number(values.connections),
    relays: (values.relays ?? '1,3').split(',').map(Number),
    variants: parseVariants(values.variants),
    floors: parseFloors(values.floors),
  };
  const command = `npx tsx bench/outbox.ts ${process.argv.slice(2).join(' ')}`.trim();
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();
  const rounds: RoundResult[] = [];
  for (let n = 0; n < settings.rounds; n += 1) {
    const result = await round(settings);
    console.log(
      `round ${n + 1}: ${JSON.stringify(result, (key, v) => (key === 'confirmedAt' ? undefined : v))}`,
    );
    rounds.push(result);
  }
  const report: OutboxReport = {
    command,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
    load: { before: loadBefore, after: loadavg() },
    ...(values.note === undefined ? {} : { note: values.note }),
    ...(values.notes === undefined ? {} : { notes: readFileSync(values.notes, 'utf8') }),
    settings,
    rounds,
  };
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(renderOutboxSection(report));
  if (values['write-docs']) writeDocs(report);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
