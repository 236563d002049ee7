/**
 * The cluster bench: three throwaway nodes (test/support/cluster.ts), three ML-style quorum queues
 * each led by a different node, and amqplib pipelined beside ferry (memory journal) with 1, 2, 4…
 * confirm channels, all routed over the three queues in turn. Each run is a child process
 * (`bench/cluster-child.ts`, compiled as `bench/run.ts` compiles its children); clients are interleaved
 * within each round and the table gives medians over the rounds.
 *
 *   npx tsx bench/cluster.ts [--messages 20000] [--rounds 3] [--channels 1,2,4]
 *
 * Needs root and the rabbitmq-server package (throwaway nodes); never touches the shared broker.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Channel, connect } from 'amqplib';
import { firstRotation } from '../src/amqp/node-rotation.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../test/support/cluster.js';
import { buildChild, removeBuild } from './build.js';
import { killActiveChild, runChild } from './child-run.js';
import type { ClusterJob, ClusterMeasurement } from './cluster-child.js';
import { median } from './workload.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const CHILD_TIMEOUT_MS = 5 * 60_000;
const NODES = 3;

interface Options {
  readonly messages: number;
  readonly rounds: number;
  readonly channels: readonly number[];
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      messages: { type: 'string', default: '20000' },
      rounds: { type: 'string', default: '3' },
      channels: { type: 'string', default: '1' },
    },
  });
  const channels = values.channels.split(',').map(Number);
  if (channels.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`--channels takes positive integers separated by commas, not ${values.channels}`);
  }
  const messages = Number(values.messages);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(messages) || messages < 1) throw new Error('--messages must be a positive integer');
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  return { messages, rounds, channels };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The bench's objects: a direct exchange, its alternate exchange and queue, three quorum queues. */
interface ClusterObjects {
  readonly exchange: string;
  readonly queues: readonly string[];
  readonly alternateExchange: string;
  readonly unroutableQueue: string;
}

async function withChannel<T>(url: string, use: (channel: Channel) => Promise<T>): Promise<T> {
  const model = await connect(url);
  try {
    return await use(await model.createChannel());
  } finally {
    await model.close().catch(() => undefined);
  }
}

/**
 * Declares queue `i` through node `i`: RabbitMQ places a new quorum queue's leader on the node its
 * declaring client is connected to. The alternate exchange is linked by a policy, as `bench/run.ts` does.
 */
async function declare(cluster: ThrowawayCluster, objects: ClusterObjects): Promise<void> {
  const first = cluster.urls[0] as string;
  await withChannel(first, async (channel) => {
    await channel.assertExchange(objects.alternateExchange, 'fanout', { durable: true });
    await channel.assertQueue(objects.unroutableQueue, { durable: true });
    await channel.bindQueue(objects.unroutableQueue, objects.alternateExchange, '');
    await channel.assertExchange(objects.exchange, 'direct', { durable: true });
  });
  for (const [i, queue] of objects.queues.entries()) {
    await withChannel(cluster.urls[i] as string, async (channel) => {
      await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await channel.bindQueue(queue, objects.exchange, queue);
    });
  }
  await cluster.nodes[0]?.ctl(
    'set_policy',
    '--apply-to',
    'exchanges',
    `${objects.exchange}-ae`,
    `^${objects.exchange}(?!.)`,
    JSON.stringify({ 'alternate-exchange': objects.alternateExchange }),
  );
}

/** Messages in each queue, then every queue purged. */
async function countAndPurge(url: string, queues: readonly string[]): Promise<number> {
  return withChannel(url, async (channel) => {
    let total = 0;
    for (const queue of queues) {
      total += (await channel.checkQueue(queue)).messageCount;
      await channel.purgeQueue(queue);
    }
    return total;
  });
}

/** One row of the table: a client with a channel count. */
interface Row {
  readonly client: ClusterJob['client'];
  readonly channels: number;
}

interface Sample {
  readonly rate: number;
  readonly cpuPerMessage: number;
  /** Copies in the queues beyond the messages sent: republished unknown outcomes. */
  readonly duplicates: number;
}

/** Runs the bench and returns its markdown table. */
async function runClusterBench(options: Options): Promise<string> {
  const id = randomBytes(4).toString('hex');
  const loadBefore = execFileSync('uptime', { encoding: 'utf8' }).trim();
  log(`ferry cluster bench ${id}: ${options.messages} messages, ${options.rounds} round(s); ${loadBefore}`);
  const base = `ferry-bench-${id}`;
  const objects: ClusterObjects = {
    exchange: base,
    queues: ['ml.summarize', 'ml.transcribe', 'ml.embed'].map((queue) => `${base}.${queue}`),
    alternateExchange: `${base}-ae`,
    unroutableQueue: `${base}-unroutable`,
  };
  const buildDir = join(ROOT, '.scratch', `bench-cluster-${id}`);
  const childPath = join(dirname(buildChild(ROOT, buildDir)), 'cluster-child.js');
  let cluster: ThrowawayCluster | undefined;
  const cleanUp = async (): Promise<void> => {
    killActiveChild();
    removeBuild(buildDir);
    await cluster?.stop();
  };
  const onSignal = (): void => {
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rows: Row[] = [
    { client: 'amqplib', channels: 1 },
    ...options.channels.map((channels) => ({ client: 'ferry-memory' as const, channels })),
  ];
  const samples = new Map<Row, Sample[]>(rows.map((row) => [row, []]));
  try {
    const startedAt = Date.now();
    cluster = await startThrowawayCluster({ name: 'ferry-bench' });
    log(`cluster up in ${((Date.now() - startedAt) / 1_000).toFixed(0)} s`);
    await declare(cluster, objects);
    const placement = await cluster.awaitPlacement(
      objects.queues,
      (queue) => queue.leader !== undefined && queue.online.length === NODES,
    );
    const leaders = objects.queues.map((queue) => placement.get(queue)?.leader);
    if (new Set(leaders).size !== NODES)
      throw new Error(`queues not led by three nodes: ${leaders.join(', ')}`);
    log(`leaders by queue: ${leaders.join(', ')}`);
    let seed = 1;
    while (firstRotation(NODES, seed).next !== 0) seed += 1;
    const first = cluster.urls[0] as string;
    for (let round = 1; round <= options.rounds; round += 1) {
      // Rotated by one per round, so that no row always runs first.
      const shift = (round - 1) % rows.length;
      for (const row of [...rows.slice(shift), ...rows.slice(0, shift)]) {
        const job: ClusterJob = {
          ...row,
          urls: cluster.urls,
          seed,
          exchange: objects.exchange,
          routingKeys: objects.queues,
          unroutable: { alternateExchange: objects.alternateExchange, queue: objects.unroutableQueue },
          messages: options.messages,
          run: `${id}r${round}${row.client.slice(0, 1)}${row.channels}`,
        };
        const measurement = await runChild<ClusterMeasurement>(childPath, job, {
          label: `${job.client} ×${job.channels}`,
          cwd: ROOT,
          timeoutMs: CHILD_TIMEOUT_MS,
        });
        const held = await countAndPurge(first, objects.queues);
        // More is fine: an unknown outcome (a confirm timeout on a loaded machine) is republished.
        if (held < options.messages || measurement.failed > 0) {
          throw new Error(
            `${row.client} ×${row.channels}: queues held ${held}/${options.messages}, ${measurement.failed} failed`,
          );
        }
        const sample = {
          rate: options.messages / (measurement.elapsedMs / 1_000),
          cpuPerMessage: measurement.cpuMicros / options.messages,
          duplicates: held - options.messages,
        };
        samples.get(row)?.push(sample);
        log(
          `  round ${round} ${row.client.padEnd(13)} ×${row.channels}  ${sample.rate.toFixed(0).padStart(6)} msg/s  ` +
            `${sample.cpuPerMessage.toFixed(1).padStart(5)} µs CPU/msg  duplicates ${sample.duplicates}`,
        );
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanUp();
  }
  const loadAfter = execFileSync('uptime', { encoding: 'utf8' }).trim();
  const table = [
    '| client | confirm channels | msg/s (median) | CPU µs/msg (median) | duplicates (all rounds) | rounds |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => {
      const runs = samples.get(row) ?? [];
      const rate = median(runs.map((sample) => sample.rate));
      const cpu = median(runs.map((sample) => sample.cpuPerMessage));
      const duplicates = runs.reduce((sum, sample) => sum + sample.duplicates, 0);
      return `| ${row.client} | ${row.channels} | ${Math.round(rate).toLocaleString('en')} | ${cpu.toFixed(1)} | ${duplicates} | ${runs.length} |`;
    }),
  ];
  return [
    `${options.messages.toLocaleString('en')} messages of 1 KiB per run, spread over three quorum queues led by`,
    `three different nodes; load before: ${loadBefore}; after: ${loadAfter}`,
    '',
    ...table,
  ].join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${await runClusterBench(parseOptions(process.argv.slice(2)))}\n`);
}
