/**
 * `ferry load` against the shared broker, in a vhost of its own (the tasks go to the real ML queue
 * names): every task is accepted and confirmed, lands in its queue, the rate is held rather than
 * exceeded, and the report's latency percentiles are ordered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type LoadReport, loadCommand } from '../../src/cli/load-command.js';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { createVhost } from '../celery/support.js';

let vhost: Awaited<ReturnType<typeof createVhost>>;

beforeAll(async () => {
  vhost = await createVhost();
});
afterAll(() => vhost?.remove());
afterEach(() => {
  process.exitCode = undefined;
});

async function load(
  progressIsTTY: boolean,
  ...args: string[]
): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  process.exitCode = undefined;
  const root = new Command('ferry').exitOverride();
  root.addCommand(
    loadCommand(
      { out: (text) => (out += text), err: (text) => (err += text), progressIsTTY },
      { RABBITMQ_URL: vhost.url },
    ),
  );
  await root.parseAsync(['load', ...args], { from: 'user' });
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { out, err, exitCode };
}

async function depth(queue: string): Promise<number> {
  const connection = await amqp.connect(vhost.url);
  try {
    return (await (await connection.createChannel()).checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}

it('publishes summarization tasks at the rate asked and reports every one confirmed', async () => {
  const count = 30;
  const rate = 60;
  const run = await load(false, '--rate', String(rate), '--count', String(count), '--json');
  expect(run.exitCode).toBe(0);
  const report = JSON.parse(run.out) as LoadReport;
  expect(report).toMatchObject({
    type: 'summarize',
    count,
    accepted: count,
    rejected: 0,
    confirmed: count,
    deadLettered: 0,
    unsettled: 0,
  });
  // The last task is due (count - 1) / rate seconds after the first: publishing faster breaks the rate.
  expect(report.elapsedMs).toBeGreaterThanOrEqual(((count - 1) * 1_000) / rate);
  expect(report.achievedRate).toBeLessThanOrEqual(rate);
  expect(report.achievedRate).toBeGreaterThan(rate / 4);
  const latency = report.latencyMs;
  expect(latency).not.toBeNull();
  expect(latency?.p50).toBeGreaterThan(0);
  expect(latency?.p50).toBeLessThanOrEqual(latency?.p90 as number);
  expect(latency?.p90).toBeLessThanOrEqual(latency?.p99 as number);
  expect(latency?.p99).toBeLessThanOrEqual(latency?.max as number);
  // Plain progress lines on a non-terminal, the last one complete.
  expect(run.err).not.toContain('\r');
  expect(run.err.trimEnd().split('\n').at(-1)).toBe(
    `accepted ${count}/${count}  confirmed ${count}  dead-lettered 0`,
  );
  expect(await depth('ml.summarize')).toBe(count);
}, 30_000);

it('sends embedding tasks to ml.embed and redraws one progress line on a terminal', async () => {
  const run = await load(true, '--rate', '100', '--count', '10', '--type', 'embed');
  expect(run.exitCode).toBe(0);
  expect(run.out).toMatch(/^embed: 10\/10 accepted .* 10 confirmed, 0 dead-lettered, 0 unsettled/);
  expect(run.out).toMatch(/p50 [\d.]+ ms {2}p90 [\d.]+ ms {2}p99 [\d.]+ ms/);
  expect(run.err.startsWith('\r')).toBe(true);
  expect(run.err.trimEnd().split('\n')).toHaveLength(1);
  expect(await depth('ml.embed')).toBe(10);
}, 30_000);

it("does not take a service's journal from FERRY_JOURNAL", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-load-'));
  const owner = new SqliteJournal({ path: join(dir, 'service.db') });
  await owner.open();
  process.env.FERRY_JOURNAL = `sqlite:${join(dir, 'service.db')}`;
  try {
    const run = await load(false, '--rate', '50', '--count', '5', '--json');
    expect(run.exitCode, run.err).toBe(0);
    expect(owner.pendingCount()).toBe(0);
  } finally {
    delete process.env.FERRY_JOURNAL;
    await owner.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
