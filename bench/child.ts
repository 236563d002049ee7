/**
 * One run of one client, in a process of its own so that CPU time and peak RSS are that client's:
 * started by `bench/run.ts` with the job as JSON in argv, it connects (not timed), runs the variant,
 * and sends its {@link Measurement} over the IPC channel.
 */
import { performance } from 'node:perf_hooks';
import type { BenchClient } from './clients/client.js';
import { CLIENTS } from './clients/index.js';
import {
  type BenchMessage,
  benchMessage,
  type ChildMessage,
  type Job,
  type Measurement,
  RECOVERY_TICK_MS,
  type RecoveryMeasurement,
  type RunnerMessage,
} from './workload.js';

/** How long the recovery stream waits for its last publishes to settle after it stops. */
const SETTLE_TIMEOUT_MS = 15_000;

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) reject(new Error('bench/child.ts runs under bench/run.ts (IPC)'));
    else process.send(message, undefined, undefined, (error) => (error ? reject(error) : resolve()));
  });
}

/** Resolves on the runner's next message of `type`. */
function fromRunner(type: RunnerMessage['type']): Promise<void> {
  return new Promise((resolve) => {
    const listener = (message: RunnerMessage): void => {
      if (message.type !== type) return;
      process.off('message', listener);
      resolve();
    };
    process.on('message', listener);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The recovery stream: a steady rate of `send()`s, the runner closes every connection after
 * `beforeMs`, and the stream goes on until `afterMs` after the first confirm that follows the close.
 */
async function recoveryStream(
  client: BenchClient,
  job: Job,
  make: (n: number) => BenchMessage,
): Promise<RecoveryMeasurement> {
  const plan = job.recovery;
  const sendOne = client.send?.bind(client);
  if (plan === undefined || sendOne === undefined) throw new Error(`${job.client} has no recovery run`);
  const perTick = Math.max(1, Math.round((plan.rate * RECOVERY_TICK_MS) / 1_000));
  const confirmTimes: number[] = [];
  const confirmedIds: string[] = [];
  const failedIds: string[] = [];
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  let attempted = 0;
  let closeRequestedAt: number | undefined;
  let closedAt: number | undefined;
  for (;;) {
    for (let i = 0; i < perTick; i += 1) {
      const message = make(attempted);
      attempted += 1;
      const settled: Promise<void> = sendOne(message).then(
        () => {
          confirmTimes.push(performance.now());
          confirmedIds.push(message.id);
        },
        () => {
          failedIds.push(message.id);
        },
      );
      pending.add(settled);
      void settled.finally(() => pending.delete(settled));
    }
    const now = performance.now();
    if (closeRequestedAt === undefined && now - started >= plan.beforeMs) {
      closeRequestedAt = now;
      void fromRunner('connections-closed').then(() => {
        closedAt = performance.now();
      });
      await send({ type: 'close-connections' });
    }
    if (closedAt !== undefined) {
      const resumedAt = confirmTimes.find((at) => at > (closedAt as number));
      if (resumedAt !== undefined && now - resumedAt >= plan.afterMs) break;
      if (now - closedAt > plan.resumeTimeoutMs) break;
    }
    await sleep(RECOVERY_TICK_MS);
  }
  await Promise.race([Promise.allSettled([...pending]), sleep(SETTLE_TIMEOUT_MS)]);
  const since = closeRequestedAt as number;
  const times = [...confirmTimes].sort((a, b) => a - b);
  // The longest silence between two confirms that ends after the close was asked for: the outage.
  let gap = -1;
  for (let i = 1; i < times.length; i += 1) {
    const after = times[i] as number;
    if (after >= since) gap = Math.max(gap, after - (times[i - 1] as number));
  }
  return {
    confirmedIds,
    failedIds,
    attempted,
    confirmGapMs: gap < 0 ? Number.NaN : gap,
  };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as Job;
  const info = CLIENTS[job.client];
  if (info === undefined) throw new Error(`unknown client ${job.client}`);
  const factory = await info.load();
  const client = await factory(job.target, {
    // Outside the recovery variant nothing reconnects; 1 s is most clients' own default.
    reconnectDelayMs: job.recovery?.reconnectDelayMs ?? 1_000,
    recovery: job.variant === 'recovery',
    scratch: job.scratch,
  });
  const make = (n: number): BenchMessage => benchMessage(job.run, n);
  // Warm nothing up on purpose: each process publishes once, as a service would after a deploy.
  const startRssKiB = process.memoryUsage().rss / 1_024;
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  let failed = 0;
  let recovery: RecoveryMeasurement | undefined;
  switch (job.variant) {
    case 'routed':
    case 'client-bound':
      failed = await client.pipelined(job.messages, make);
      break;
    case 'sequential': {
      if (client.sequential === undefined) throw new Error(`${job.client} has no sequential publish`);
      failed = await client.sequential(job.messages, make);
      break;
    }
    case 'outstanding':
      failed = await client.outstanding(job.messages, make);
      break;
    case 'recovery':
      recovery = await recoveryStream(client, job, make);
      failed = recovery.failedIds.length;
      break;
  }
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpuBefore);
  const measurement: Measurement = {
    client: job.client,
    variant: job.variant,
    messages: recovery?.attempted ?? job.messages,
    elapsedMs,
    cpuMicros: cpu.user + cpu.system,
    maxRssKiB: process.resourceUsage().maxRSS,
    startRssKiB,
    failed,
    ...(recovery === undefined ? {} : { recovery }),
  };
  await Promise.race([client.close().catch(() => undefined), sleep(10_000)]);
  await send({ type: 'result', measurement });
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    await send({
      type: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    }).catch(() => undefined);
    process.exit(1);
  },
);
