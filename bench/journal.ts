/**
 * Journal throughput: 50,000 messages of 1 KiB, each an `accepted` event awaited with `commit()` (as
 * `publish()` does) followed by a `confirmed` event (not awaited, as the producer does), from N
 * concurrent publishers, through each backend. Prints events/s and the p50/p99 commit latency.
 *
 *   npx tsx bench/journal.ts [--messages 50000] [--concurrency 256] [--only sqlite]
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
import type { OutboundMessage } from '../src/producer/publish-request.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '50000' },
    concurrency: { type: 'string', default: '256' },
    only: { type: 'string' },
  },
});
const MESSAGES = Number(values.messages);
const CONCURRENCY = Number(values.concurrency);
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

async function bench(name: string, journal: Journal): Promise<void> {
  await journal.open();
  const run = randomBytes(3).toString('hex');
  const latencies: number[] = [];
  let next = 0;
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
  const pending = journal.pendingCount();
  await journal.close();
  latencies.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(22)} ${String(Math.round((2 * MESSAGES) / seconds)).padStart(8)} events/s  ` +
      `${String(Math.round(MESSAGES / seconds)).padStart(7)} msg/s  commit p50 ${percentile(latencies, 50).toFixed(2)} ms  ` +
      `p99 ${percentile(latencies, 99).toFixed(2)} ms  (pending after: ${pending})`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
const prefix = `ferry-bench:${randomBytes(4).toString('hex')}`;
const backends: [string, () => Journal][] = [
  ['memory', () => new MemoryJournal()],
  ['sqlite (process)', () => new SqliteJournal({ path: join(dir, 'process.db'), durability: 'process' })],
  ['sqlite (power)', () => new SqliteJournal({ path: join(dir, 'power.db'), durability: 'power' })],
  [
    'redis',
    () => new RedisJournal({ url: 'redis://127.0.0.1:6379', keyPrefix: prefix, instanceId: 'bench' }),
  ],
];
console.log(`${MESSAGES} messages × 1 KiB, ${CONCURRENCY} concurrent publishers, Node ${process.version}`);
try {
  for (const [name, make] of backends) {
    if (values.only === undefined || name.startsWith(values.only)) await bench(name, make());
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}
