/**
 * The claim-cost bench on the shared PostgreSQL, small: it claims every row it inserted (it throws
 * otherwise), prints one line of figures, and drops its database. No figure is asserted beyond being
 * a number: they are CPU readings at 10 ms resolution on a shared machine.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { expect, it } from 'vitest';

const run = promisify(execFile);

it('measures empty, one-row, burst and backlog claims and leaves no database behind', async () => {
  const { stdout } = await run('npx', [
    'tsx',
    'bench/claim-cost.ts',
    '--claims',
    '20',
    '--burst',
    '2000',
    '--rounds',
    '1',
  ]);
  const { root, ...figures } = JSON.parse(stdout) as Record<string, unknown>;
  expect(typeof root).toBe('string');
  expect(Object.keys(figures).sort()).toEqual([
    'backlogMicrosPerRow',
    'burstMicrosPerRow',
    'emptyMicrosPerClaim',
    'oneRowMicrosPerClaim',
  ]);
  for (const [key, figure] of Object.entries(figures)) expect(Number.isFinite(figure), key).toBe(true);
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  try {
    const left = await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE 'ferry_claim_%'`);
    expect(left.rows).toEqual([]);
  } finally {
    await admin.end();
  }
}, 120_000);
