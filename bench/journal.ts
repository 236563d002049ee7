/**
 * Journal throughput: 50,000 messages of 1 KiB, each an `accepted` event awaited with `commit()` (as
 * `publish()` does) followed by a `confirmed` event (not awaited, as the producer does), from N
 * concurrent publishers, through each backend. Prints events/s, the p50/p99 commit latency and the CPU
 * time per message (user + system of this process, accept and confirm together: better-sqlite3 writes
 * on the main thread, so that is the journal's whole cost). With `--runs N` each backend runs N times
 * on a fresh file and a median row follows.
 *
 *   npx tsx bench/journal.ts [--messages 50000] [--concurrency 256] [--runs 5] [--only sqlite]
 *
 * Needs Redis on 127.0.0.1:6379 for the redis rows; writes its sqlite files under the OS temp folder.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { Journal } from '../src/journal/journal.js';
import { MemoryJournal } from '../src/journal/memory-journal.js';
import { RedisJournal } from '../src/journal/redis-journal.js';
import { SqliteJournal } from '../src/journal/sqlite-journal.js';
import type { OutboundMessage } from '../src/message/outbound-message.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '50000' },
    concurrency: { type: 'string', default: '256' },
    runs: { type: 'string', default: '1' },
    only: { type: 'string' },
  },
});
const MESSAGES = Number(values.messages);
const CONCURRENCY = Number(values.concurrency);
const RUNS = Number(values.runs);
const BODY = Buffer.alloc(1_024, 0x61);

function message(n: number, run: string): OutboundMessage {
  const messageId = `${run}-${n}`;
  return {
    messageId,
    exchange: 'bookmarkai.ml',
    routingKey: 'ml.summarize',
    content: BODY,
    acceptedAt: Date.now(),
    properties: {
      messageId,
      contentType: 'application/json',
      timestamp: 0,
      persistent: true,
      appId: 'bench',
    },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

interface Result {
  readonly msgPerSecond: number;
  readonly cpuMicrosPerMessage: number;
  readonly p50: number;
  readonly p99: number;
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
}

function row(name: string, result: Result): string {
  return (
    `${name.padEnd(22)} ${String(Math.round(2 * result.msgPerSecond)).padStart(8)} events/s  ` +
    `${String(Math.round(result.msgPerSecond)).padStart(7)} msg/s  ${result.cpuMicrosPerMessage.toFixed(1).padStart(5)} µs CPU/msg  ` +
    `commit p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms`
  );
}

async function bench(journal: Journal): Promise<Result> {
  await journal.open();
  const run = randomBytes(3).toString('hex');
  const latencies: number[] = [];
  let next = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  async function publisher(): Promise<void> {
    while (next < MESSAGES) {
      const n = next;
      next += 1;
      const t0 = process.hrtime.bigint();
      journal.append({ type: 'accepted', message: message(n, run) });
      await journal.commit();
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      journal.append({ type: 'confirmed', messageId: `${run}-${n}`, at: Date.now() });
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, publisher));
  await journal.commit();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  const pending = journal.pendingCount();
  await journal.close();
  if (pending !== 0) throw new Error(`${pending} messages still pending after the run`);
  latencies.sort((a, b) => a - b);
  return {
    msgPerSecond: MESSAGES / seconds,
    cpuMicrosPerMessage: (used.user + used.system) / MESSAGES,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
const prefix = `ferry-bench:${randomBytes(4).toString('hex')}`;
let files = 0;
const backends: [string, () => Journal][] = [
  ['memory', () => new MemoryJournal()],
  [
    'sqlite (process)',
    () => new SqliteJournal({ path: join(dir, `process-${++files}.db`), durability: 'process' }),
  ],
  [
    'sqlite (power)',
    () => new SqliteJournal({ path: join(dir, `power-${++files}.db`), durability: 'power' }),
  ],
  [
    'redis',
    () => new RedisJournal({ url: 'redis://127.0.0.1:6379', keyPrefix: prefix, instanceId: 'bench' }),
  ],
];
console.log(
  `${MESSAGES} messages × 1 KiB, ${CONCURRENCY} concurrent publishers, ${RUNS} run(s) each, Node ${process.version}`,
);
try {
  for (const [name, make] of backends) {
    if (values.only !== undefined && !name.startsWith(values.only)) continue;
    const results: Result[] = [];
    for (let n = 0; n < RUNS; n += 1) {
      const result = await bench(make());
      results.push(result);
      console.log(row(name, result));
    }
    if (RUNS > 1) {
      const of = (pick: (result: Result) => number) => median(results.map(pick));
      console.log(
        row(`${name} median`, {
          msgPerSecond: of((result) => result.msgPerSecond),
          cpuMicrosPerMessage: of((result) => result.cpuMicrosPerMessage),
          p50: of((result) => result.p50),
          p99: of((result) => result.p99),
        }),
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}
