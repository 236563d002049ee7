/**
 * Benchmarks side by side: every client publishes the same messages to the same queue, one child
 * process per run, interleaved within each round, and the report gives medians over the rounds.
 *
 *   npx tsx bench/run.ts [--messages 50000] [--rounds 3] [--quick] [--clients a,b] [--variants a,b]
 *                        [--json report.json] [--write-docs] [--profile dir] [--render report.json]
 *
 * Needs RabbitMQ on 127.0.0.1:5672 (guest/guest); the recovery variant also starts a throwaway node
 * (test/support/throwaway-broker.ts: root and the rabbitmq-server package) and never touches the
 * shared broker's connections. Objects are named `ferry-bench-<id>-…` and deleted at the end.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect } from 'amqplib';
import type { ThrowawayBroker } from '../test/support/throwaway-broker.js';
import {
  type BenchObjects,
  benchObjects,
  countMessages,
  declareObjects,
  deleteObjects,
  drainIds,
  purge,
  sharedCtl,
} from './broker.js';
import { buildChild, removeBuild } from './build.js';
import { killActiveChild, runChild } from './child-run.js';
import { BASELINE, CLIENTS } from './clients/index.js';
import { renderDocs } from './docs.js';
import {
  evaluateGoals,
  type GoalResult,
  type RunRecord,
  type SummaryRow,
  scoreRecovery,
  summarise,
} from './report.js';
import {
  BODY_BYTES,
  type Job,
  type Measurement,
  type RecoveryPlan,
  type Target,
  VARIANTS,
  type Variant,
} from './workload.js';

const SHARED_URL = 'amqp://guest:guest@127.0.0.1:5672';
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
/** A child that has not reported after this long is killed and the bench fails. */
const CHILD_TIMEOUT_MS = 10 * 60_000;

/** Everything a report needs to be reproduced and judged. */
export interface BenchReport {
  readonly command: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly memoryGiB: number;
    readonly os: string;
    readonly node: string;
    readonly rabbitmq: string;
  };
  /** `uptime` before and after: the machine is shared, so say how loaded it was. */
  readonly load: { readonly before: string; readonly after: string };
  readonly versions: Readonly<Record<string, string>>;
  readonly settings: {
    readonly messages: number;
    readonly sequentialMessages: number;
    readonly rounds: number;
    readonly bodyBytes: number;
    readonly clients: readonly string[];
    readonly variants: readonly Variant[];
    readonly recovery: RecoveryPlan;
  };
  /** The objects the runs used on the shared broker; deleted at the end. */
  readonly objects: BenchObjects;
  readonly runs: readonly RunRecord[];
  /** Runs that failed (the child crashed or timed out). */
  readonly errors: readonly RunError[];
  readonly summary: readonly SummaryRow[];
  readonly goals: readonly GoalResult[];
}

interface Options {
  readonly messages: number;
  readonly sequentialMessages: number;
  readonly rounds: number;
  readonly clients: readonly string[];
  readonly variants: readonly Variant[];
  readonly json: string | undefined;
  readonly render: string | undefined;
  readonly writeDocs: boolean;
  readonly recovery: RecoveryPlan;
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      messages: { type: 'string' },
      'sequential-messages': { type: 'string' },
      rounds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      clients: { type: 'string' },
      variants: { type: 'string' },
      json: { type: 'string' },
      'write-docs': { type: 'boolean', default: false },
      profile: { type: 'string' },
      render: { type: 'string' },
    },
  });
  const quick = values.quick === true;
  profileDir = values.profile;
  const messages = Number(values.messages ?? (quick ? 5_000 : 50_000));
  const clients = values.clients?.split(',') ?? Object.keys(CLIENTS);
  for (const client of clients) if (!(client in CLIENTS)) throw new Error(`unknown client ${client}`);
  if (!clients.includes(BASELINE)) throw new Error(`--clients must include the baseline, ${BASELINE}`);
  const variants = (values.variants?.split(',') ?? [...VARIANTS]) as Variant[];
  for (const variant of variants)
    if (!VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}`);
  return {
    messages,
    // Awaiting each confirm runs at a few hundred msg/s here: 20,000 messages give the same ratio in a
    // minute or two per client, and still dwarf the fixed start-up cost (JIT) of the faster clients.
    sequentialMessages: Number(values['sequential-messages'] ?? Math.min(messages, 20_000)),
    rounds: Number(values.rounds ?? (quick ? 1 : 3)),
    clients,
    variants,
    json: values.json,
    render: values.render,
    writeDocs: values['write-docs'] === true,
    recovery: {
      rate: 1_000,
      beforeMs: quick ? 1_000 : 2_000,
      afterMs: quick ? 1_000 : 2_000,
      resumeTimeoutMs: 30_000,
      reconnectDelayMs: 100,
    },
  };
}

/** Whether `client` takes part in `variant`. */
function applies(client: string, variant: Variant): boolean {
  const info = CLIENTS[client];
  if (info === undefined) return false;
  if (variant === 'recovery') return info.recovers && info.tuned !== true;
  if (variant === 'client-bound' || variant === 'sequential') return info.confirms;
  return true;
}

/** `--profile <dir>`: every child writes a V8 CPU profile there (`node --cpu-prof`). */
let profileDir: string | undefined;
/** Runs one child to completion; `onClose` handles its request to close the broker's connections. */
function runBenchChild(childPath: string, job: Job, onClose: () => Promise<void>): Promise<Measurement> {
  return runChild<Measurement>(childPath, job, {
    label: `${job.client} ${job.variant}`,
    cwd: ROOT,
    timeoutMs: CHILD_TIMEOUT_MS,
    execArgv: profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir],
    onOther: (message, child, fail) => {
      if (message.type !== 'close-connections') return;
      onClose().then(
        () => child.send({ type: 'connections-closed' }),
        (error: unknown) => fail(`closing connections failed: ${String(error)}`),
      );
    },
  });
}

/** `round`'s order of the clients: rotated by one per round, so nobody always runs first. */
function rotation(clients: readonly string[], round: number): string[] {
  const shift = round % clients.length;
  return [...clients.slice(shift), ...clients.slice(0, shift)];
}

function uptime(): string {
  return execFileSync('uptime', { encoding: 'utf8' }).trim();
}

/** The installed version of package `name`, or of ferry itself for `ferry`. */
function packageVersion(name: string): string {
  const path = name === 'ferry' ? 'package.json' : join('node_modules', name, 'package.json');
  const json = JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as {
    version: string;
  };
  return json.version;
}

async function rabbitmqVersion(url: string): Promise<string> {
  const model = await connect(url);
  const properties = (model.connection as unknown as { serverProperties: Record<string, unknown> })
    .serverProperties;
  await model.close();
  return String(properties.version ?? 'unknown');
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** One throughput run: purge, publish, check the count, purge. */
async function throughputRun(
  childPath: string,
  options: Options,
  objects: BenchObjects,
  id: string,
  round: number,
  variant: Exclude<Variant, 'recovery'>,
  client: string,
): Promise<RunRecord> {
  const keeps = variant !== 'client-bound';
  const queue = keeps ? objects.queue : objects.voidQueue;
  const messages = Math.min(
    variant === 'sequential' ? options.sequentialMessages : options.messages,
    CLIENTS[client]?.maxMessages ?? Number.POSITIVE_INFINITY,
  );
  const target: Target = {
    url: SHARED_URL,
    exchange: objects.exchange,
    routingKey: queue,
    queue,
    unroutable: unroutableOf(objects),
  };
  await purge(SHARED_URL, queue);
  const scratch = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  try {
    const run = `${id}r${round}${variant.slice(0, 3)}${Object.keys(CLIENTS).indexOf(client)}`;
    const job: Job = { client, variant, messages, target, run, scratch };
    const measurement = await runBenchChild(childPath, job, () =>
      Promise.reject(new Error('not a recovery run')),
    );
    const queueCount = await countMessages(SHARED_URL, queue);
    const record: RunRecord = {
      round,
      variant,
      client,
      measurement,
      queueCount,
      expectedCount: keeps ? messages : 0,
    };
    const rate = Math.round(messages / (measurement.elapsedMs / 1_000));
    log(
      `  ${variant.padEnd(12)} ${client.padEnd(24)} ${String(rate).padStart(7)} msg/s  ` +
        `${(measurement.cpuMicros / messages).toFixed(1).padStart(6)} µs/msg  ` +
        `${(measurement.maxRssKiB / 1_024).toFixed(0).padStart(4)} MiB  queue ${queueCount}/${record.expectedCount}`,
    );
    return record;
  } finally {
    await purge(SHARED_URL, queue);
    rmSync(scratch, { recursive: true, force: true });
  }
}

function unroutableOf(objects: BenchObjects): Target['unroutable'] {
  return { alternateExchange: objects.alternateExchange, queue: objects.unroutableQueue };
}

/** One recovery run on the throwaway node: stream, forced close, stream on; then drain and score. */
async function recoveryRun(
  childPath: string,
  options: Options,
  broker: ThrowawayBroker,
  id: string,
  round: number,
  client: string,
): Promise<RunRecord> {
  const objects = benchObjects(`${id}rec${round}${Object.keys(CLIENTS).indexOf(client)}`);
  await declareObjects(broker.url, objects, broker.ctl);
  const scratch = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  try {
    const run = `${id}r${round}rec${Object.keys(CLIENTS).indexOf(client)}`;
    const target: Target = {
      url: broker.url,
      exchange: objects.exchange,
      routingKey: objects.queue,
      queue: objects.queue,
      unroutable: unroutableOf(objects),
    };
    const job: Job = {
      client,
      variant: 'recovery',
      messages: 0,
      target,
      run,
      scratch,
      recovery: options.recovery,
    };
    const measurement = await runBenchChild(childPath, job, async () => {
      await broker.ctl('close_all_connections', 'ferry bench: forced close');
    });
    const score = scoreRecovery(measurement, run, await drainIds(broker.url, objects.queue));
    log(
      `  recovery     ${client.padEnd(24)} resumed in ${score.resumeMs.toFixed(0)} ms  ` +
        `attempted ${score.attempted}  failed ${score.failed}  lost ${score.lost}  duplicated ${score.duplicated}`,
    );
    return { round, variant: 'recovery', client, measurement, score };
  } finally {
    await deleteObjects(broker.url, objects, broker.ctl).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A run that failed: reported, and the bench goes on with the next one. */
export interface RunError {
  readonly round: number;
  readonly variant: Variant;
  readonly client: string;
  readonly message: string;
}

async function attempt(
  errors: RunError[],
  round: number,
  variant: Variant,
  client: string,
  run: () => Promise<void>,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`  ${variant.padEnd(12)} ${client.padEnd(24)} FAILED: ${message.split('\n')[0]}`);
    errors.push({ round, variant, client, message: message.slice(0, 2_000) });
  }
}

/** A saved report with its summary and goals computed anew from its runs (as this code scores them). */
function rescore(path: string): BenchReport {
  const saved = JSON.parse(readFileSync(path, 'utf8')) as BenchReport;
  const summary = summarise(saved.runs);
  return { ...saved, summary, goals: evaluateGoals(summary, saved.settings.recovery.reconnectDelayMs) };
}

/** Runs the whole bench and returns its report. */
export async function runBench(argv: readonly string[]): Promise<BenchReport> {
  const options = parseOptions(argv);
  const id = randomBytes(4).toString('hex');
  const objects = benchObjects(id);
  const startedAt = new Date().toISOString();
  const loadBefore = uptime();
  log(`ferry bench ${id}: ${options.messages} messages, ${options.rounds} round(s); ${loadBefore}`);
  const runs: RunRecord[] = [];
  const errors: RunError[] = [];
  let broker: ThrowawayBroker | undefined;
  const buildDir = join(ROOT, '.scratch', `bench-${id}`);
  const childPath = buildChild(ROOT, buildDir);
  const cleanUp = async (): Promise<void> => {
    killActiveChild();
    removeBuild(buildDir);
    await deleteObjects(SHARED_URL, objects, sharedCtl).catch(() => undefined);
    await broker?.stop();
  };
  // Interrupted: leave nothing behind (objects on the shared broker, the throwaway node, the build).
  const onSignal = (): void => {
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await declareObjects(SHARED_URL, objects, sharedCtl);
  try {
    const throughput = options.variants.filter((v): v is Exclude<Variant, 'recovery'> => v !== 'recovery');
    if (options.variants.includes('recovery')) {
      const { startThrowawayBroker } = await import('../test/support/throwaway-broker.js');
      broker = await startThrowawayBroker({ name: 'ferry-bench' });
    }
    for (let round = 1; round <= options.rounds; round += 1) {
      log(`round ${round}/${options.rounds}`);
      const order = rotation(options.clients, round - 1);
      for (const variant of throughput) {
        for (const client of order) {
          if (!applies(client, variant)) continue;
          await attempt(errors, round, variant, client, async () => {
            runs.push(await throughputRun(childPath, options, objects, id, round, variant, client));
          });
        }
      }
      if (broker !== undefined) {
        for (const client of order) {
          if (applies(client, 'recovery'))
            runs.push(await recoveryRun(childPath, options, broker, id, round, client));
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanUp();
  }
  const summary = summarise(runs);
  const versions: Record<string, string> = {};
  for (const client of options.clients) {
    const name = (CLIENTS[client] as { packageName: string }).packageName;
    versions[name] = packageVersion(name);
  }
  return {
    command: `npx tsx bench/run.ts ${argv.join(' ')}`.trim(),
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${process.platform} ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}`,
      node: process.version,
      rabbitmq: await rabbitmqVersion(SHARED_URL),
    },
    load: { before: loadBefore, after: uptime() },
    versions,
    settings: {
      messages: options.messages,
      sequentialMessages: options.sequentialMessages,
      rounds: options.rounds,
      bodyBytes: BODY_BYTES,
      clients: options.clients,
      variants: options.variants,
      recovery: options.recovery,
    },
    objects,
    runs,
    errors,
    summary,
    goals: evaluateGoals(summary, options.recovery.reconnectDelayMs),
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  // `--render <report.json>` re-renders the docs of a saved report without running anything.
  const report = options.render === undefined ? await runBench(argv) : rescore(options.render);
  const markdown = renderDocs(report);
  process.stdout.write(`${markdown}\n`);
  if (options.json !== undefined) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
  if (options.writeDocs) {
    const path = join(ROOT, 'docs', 'benchmarks.md');
    writeFileSync(path, withSectionsOfOtherBenches(markdown, readFileSync(path, 'utf8')));
  }
  log(`free memory ${Math.round(freemem() / 2 ** 20)} MiB at the end`);
}

/**
 * The rendered markdown followed by the sections of the current docs that this bench does not write
 * (the outbox bench's, the channel pool's, ...), so that a full run does not erase their figures.
 */
function withSectionsOfOtherBenches(markdown: string, current: string): string {
  const ours = new Set(markdown.split('\n').filter((line) => line.startsWith('## ')));
  const kept = current
    .split(/\n(?=## )/)
    .filter((section) => section.startsWith('## ') && !ours.has(section.split('\n', 1)[0] ?? ''));
  return kept.length === 0 ? markdown : `${markdown.trimEnd()}\n\n${kept.join('\n').trimEnd()}\n`;
}
