/**
 * `ferry load`: a load generator. Publishes `--count` ML tasks through the task layer at a steady
 * `--rate` per second to the broker of `RABBITMQ_URL` (the same variables as `ferry serve`), shows
 * progress on stderr (one updating line on a terminal, a plain line a second otherwise), and reports
 * accepted / confirmed / dead-lettered counts and the latency from accept to settle.
 *
 * ```
 * ferry load --rate 200 --count 5000 --type embed --json
 * ```
 *
 * Exit codes: 0 every accepted task settled (confirmed or dead-lettered), 1 some did not settle within
 * `--timeout` or were not accepted, 2 invalid input or configuration.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseJournalSpec } from '../journal/create-journal.js';
import { createProducer, type Producer } from '../producer/producer.js';
import type { PublishReceipt } from '../producer/receipt.js';
import { formatConfigProblems, loadServiceConfig, type ServiceEnv } from '../service/config.js';
import { createMlTasks, type MlTasks } from '../tasks/ml-tasks.js';
import type { Output } from './journal-command.js';

const TYPES = ['summarize', 'transcribe', 'embed'] as const;
type TaskKind = (typeof TYPES)[number];

interface LoadOptions {
  rate: number;
  count: number;
  type: TaskKind;
  journal: string;
  timeout: number;
  json?: boolean;
}

/** Where `ferry load` writes; progress redraws one line when `progressIsTTY`. */
export interface LoadOutput extends Output {
  readonly progressIsTTY: boolean;
}

/** The end-of-run report (`--json` prints it as it is). */
export interface LoadReport {
  readonly type: TaskKind;
  readonly count: number;
  readonly rate: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly confirmed: number;
  readonly deadLettered: number;
  readonly unsettled: number;
  readonly elapsedMs: number;
  /** Tasks accepted per second from the first accept to the last. */
  readonly achievedRate: number;
  /** Accept to settle, ms; `null` when nothing settled. */
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  } | null;
}

const PROGRESS_INTERVAL_MS = 1_000;

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
};
const positiveInt = (value: string): number => {
  const n = positive(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be a whole number');
  return n;
};

/** The nearest-rank `p`th percentile of ascending `sorted` (not empty). */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

function send(tasks: MlTasks, kind: TaskKind, shareId: string, n: number): Promise<PublishReceipt> {
  const text = `ferry load task ${n}`;
  if (kind === 'summarize') return tasks.publishSummarizationTask(shareId, { text });
  if (kind === 'transcribe')
    return tasks.publishTranscriptionTask(shareId, `https://example.com/load/${n}.mp4`);
  return tasks.publishEmbeddingTask(shareId, { text });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes at the steady rate; waits for every receipt up to `timeout` after the last accept. */
async function generate(tasks: MlTasks, o: LoadOptions, io: LoadOutput): Promise<LoadReport> {
  const run = randomBytes(4).toString('hex');
  const latencies: number[] = [];
  const counts = { accepted: 0, rejected: 0, confirmed: 0, deadLettered: 0 };
  const settlements: Promise<void>[] = [];
  const progress = (): string =>
    `accepted ${counts.accepted}/${o.count}  confirmed ${counts.confirmed}  dead-lettered ${counts.deadLettered}` +
    (counts.rejected > 0 ? `  rejected ${counts.rejected}` : '');
  const show = (): void => io.err(io.progressIsTTY ? `\r${progress()}\x1b[K` : `${progress()}\n`);
  const ticker = setInterval(show, PROGRESS_INTERVAL_MS);

  const start = performance.now();
  let published = start;
  try {
    for (let n = 0; n < o.count; n += 1) {
      // Due times come from the start, not the previous send, so that delays do not add up. Timers
      // count whole milliseconds from a clock that can lag, so one can fire a little early: never send
      // before the due time, or the rate asked is exceeded.
      const due = start + (n * 1_000) / o.rate;
      for (let wait = due - performance.now(); wait > 0; wait = due - performance.now()) {
        await sleep(Math.ceil(wait));
      }
      try {
        const receipt = await send(tasks, o.type, `load-${run}-${n}`, n);
        const acceptedAt = performance.now();
        counts.accepted += 1;
        settlements.push(
          receipt.settled.then(
            (outcome) => {
              latencies.push(performance.now() - acceptedAt);
              if (outcome === 'confirmed') counts.confirmed += 1;
              else counts.deadLettered += 1;
            },
            () => undefined,
          ),
        );
      } catch (error) {
        counts.rejected += 1;
        io.err(
          `${io.progressIsTTY ? '\n' : ''}ferry load: task ${n} not accepted: ${(error as Error).message}\n`,
        );
      }
    }
    published = performance.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(settlements),
      new Promise((resolve) => {
        timer = setTimeout(resolve, o.timeout);
      }),
    ]);
    clearTimeout(timer);
  } finally {
    clearInterval(ticker);
    show();
    if (io.progressIsTTY) io.err('\n');
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const publishSeconds = (published - start) / 1_000;
  return {
    type: o.type,
    count: o.count,
    rate: o.rate,
    ...counts,
    unsettled: counts.accepted - counts.confirmed - counts.deadLettered,
    elapsedMs: round(performance.now() - start),
    // n tasks span n - 1 intervals.
    achievedRate: round(publishSeconds > 0 ? (counts.accepted - 1) / publishSeconds : counts.accepted),
    latencyMs:
      sorted.length === 0
        ? null
        : {
            p50: round(percentile(sorted, 50)),
            p90: round(percentile(sorted, 90)),
            p99: round(percentile(sorted, 99)),
            max: round(sorted.at(-1) as number),
          },
  };
}

function summary(r: LoadReport): string {
  const latency =
    r.latencyMs === null
      ? 'no task settled'
      : `accept→settle p50 ${r.latencyMs.p50} ms  p90 ${r.latencyMs.p90} ms  p99 ${r.latencyMs.p99} ms  max ${r.latencyMs.max} ms`;
  return (
    `${r.type}: ${r.accepted}/${r.count} accepted at ${r.achievedRate}/s (asked ${r.rate}/s), ` +
    `${r.confirmed} confirmed, ${r.deadLettered} dead-lettered, ${r.unsettled} unsettled, ` +
    `${r.rejected} rejected in ${r.elapsedMs} ms\n${latency}\n`
  );
}

/** The `load` command; `io` defaults to stdout and stderr, `env` to `process.env`. */
export function loadCommand(
  io: LoadOutput = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    progressIsTTY: process.stderr.isTTY === true,
  },
  env: ServiceEnv = process.env,
): Command {
  return new Command('load')
    .description('Publish ML tasks at a steady rate and report confirms and latency.')
    .requiredOption('--rate <perSecond>', 'tasks per second', positive)
    .requiredOption('--count <n>', 'how many tasks', positiveInt)
    .addOption(new Option('--type <type>', 'which ML task').choices(TYPES).default('summarize'))
    .addOption(
      new Option(
        '--journal <spec>',
        'memory | sqlite:<path> | redis://host:port (FERRY_JOURNAL is not read: a service owns its journal)',
      ).default('memory'),
    )
    .addOption(
      new Option('--timeout <ms>', 'how long to wait for the last confirms')
        .argParser(positiveInt)
        .default(60_000),
    )
    .option('--json', 'print the report as JSON on stdout')
    .action(async (o: LoadOptions) => {
      const loaded = loadServiceConfig({ ...env, FERRY_JOURNAL: undefined });
      if (!loaded.ok) {
        io.err(`ferry load: ${formatConfigProblems(loaded.problems)}\n`);
        process.exitCode = 2;
        return;
      }
      let producer: Producer;
      try {
        producer = createProducer({ ...loaded.config.producer, journal: parseJournalSpec(o.journal) });
      } catch (error) {
        io.err(`ferry load: ${(error as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      try {
        // Connected before the clock starts, so that the latencies are the broker's, not the connect's.
        await producer.start();
        const tasks = createMlTasks(producer, { preferredBackends: loaded.config.preferredBackends });
        const report = await generate(tasks, o, io);
        io.out(o.json === true ? `${JSON.stringify(report)}\n` : summary(report));
        if (report.unsettled > 0 || report.rejected > 0) process.exitCode = 1;
      } catch (error) {
        io.err(`ferry load: ${(error as Error).message}\n`);
        process.exitCode = 1;
      } finally {
        await producer.close({ timeoutMs: 0 });
      }
    });
}
