/**
 * The outbox bench (bench/outbox.ts) in a small run, on the shared broker and PostgreSQL: its report
 * has every figure the docs section is rendered from, the relay and the floor each moved every row
 * (the bench itself fails a run that did not), the steady stream lost and duplicated nothing, and the
 * bench's databases are gone afterwards. No wall-clock assertions: only structure and counts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { type OutboxReport, renderOutboxSection } from '../../bench/outbox-docs.js';
import { PG_ADMIN_URL } from '../postgres/support.js';

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'ferry-outbox-bench-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The bench's own databases (`ferry_bench_<tag>`) on the shared PostgreSQL. */
async function benchDatabases(): Promise<string[]> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    const result = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'ferry\\_bench\\_%'",
    );
    return result.rows.map((row) => row.datname);
  } finally {
    await admin.end();
  }
}

it('runs a small outbox bench and reports every figure the docs section needs', async () => {
  const before = await benchDatabases();
  const json = join(scratch, 'report.json');
  const args = ['--rounds', '1', '--messages', '2000', '--samples', '10', '--seconds', '1', '--relays', '1'];
  await run('npx', ['tsx', 'bench/outbox.ts', ...args, '--json', json], { timeout: 240_000 });
  const report = JSON.parse(readFileSync(json, 'utf8')) as OutboxReport;

  expect(report.settings).toMatchObject({ rounds: 1, messages: 2_000, relays: [1] });
  expect(report.settings.floors).toEqual(['floor-read', 'floor-claim']);
  expect(report.rounds).toHaveLength(1);
  const [round] = report.rounds;
  expect(round?.amqplib.msgPerSec).toBeGreaterThan(0);
  expect(round?.relays.map((relay) => [relay.variant, relay.relays])).toEqual([['default', 1]]);
  expect(round?.floors?.map((floor) => floor.floor)).toEqual(['floor-read', 'floor-claim']);
  for (const burst of [round?.relays[0], ...(round?.floors ?? [])]) {
    expect(burst?.msgPerSec).toBeGreaterThan(0);
    expect(burst?.cpuMicrosPerMsg).toBeGreaterThan(0);
  }
  // The steady stream: every task delivered once, and its CPU read on all three sides.
  expect(round?.steady).toMatchObject({ missing: 0, duplicates: 0 });
  expect(round?.steady.confirmed.n).toBe(1_000);
  expect(round?.steady.relayMicros).toBeGreaterThan(0);
  expect(round?.steady.postgresMicros).toBeGreaterThan(0);
  expect([round?.cost.plain.n, round?.cost.withEnqueue.n]).toEqual([10, 10]);

  const section = renderOutboxSection(report);
  expect(section.startsWith('## PostgreSQL outbox\n')).toBe(true);
  expect(section).toContain('| one relay ≥ 0.8× amqplib routed |');
  expect(section).toContain('| floor-claim |');
  // The latency goal counts only for a stream that kept its rate.
  const latencyGoal = (achieved: number) => {
    const rounds = report.rounds.map((r) => ({ ...r, steady: { ...r.steady, achieved } }));
    return renderOutboxSection({ ...report, rounds })
      .split('\n')
      .find((line) => line.startsWith('| commit-to-confirm p50 ≤ 20 ms'));
  };
  const rate = report.settings.rate;
  expect(latencyGoal(rate * 0.7)).toMatch(/\| \*\*no\*\*: the stream fell short of its rate \|$/);
  expect(latencyGoal(rate)).toMatch(
    round && round.steady.confirmed.p50 <= 20 ? /\| yes \|$/ : /\| \*\*no\*\* \|$/,
  );
  // Each burst and the stream ran on a database of its own, dropped at its end.
  expect(await benchDatabases()).toEqual(before);
}, 300_000);
