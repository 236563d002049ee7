/**
 * `ferry migrate` and `ferry journal stats|list|export` on the postgres outbox, run in-process against
 * a database of the test's own.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { journalCommand } from '../../src/cli/journal-command.js';
import { migrateCommand } from '../../src/cli/migrate-command.js';
import { enqueueMany } from '../../src/postgres/enqueue.js';
import { OUTBOX_SCHEMA_VERSION } from '../../src/postgres/migrations.js';
import { createTestDatabase, requests, type TestDatabase } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  process.exitCode = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function database(label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  cleanups.push(() => db.drop());
  return db;
}

async function cli(
  make: typeof migrateCommand,
  args: string[],
): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  process.exitCode = undefined;
  const command = make({ out: (text) => (out += text), err: (text) => (err += text) });
  command.exitOverride();
  await command.parseAsync(args, { from: 'user' });
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { out, err, code };
}

/** A database whose outbox a team built with its own tool, from the printed SQL up to `version`. */
async function outboxAt(label: string, version: number): Promise<TestDatabase> {
  const printed = (await cli(migrateCommand, ['--print'])).out;
  const next = printed.indexOf(`-- version ${version + 1}`);
  expect(next).toBeGreaterThan(0);
  const db = await database(label);
  await db.pool.query(`${printed.slice(0, next)}COMMIT;`);
  return db;
}

async function tables(db: TestDatabase): Promise<string> {
  const result = await db.pool.query(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
     WHERE table_schema = 'ferry' ORDER BY 1, 2`,
  );
  return JSON.stringify(result.rows);
}

describe('ferry migrate', () => {
  it('creates the schema once, and its printed SQL builds the same schema', async () => {
    const db = await database('cli_migrate');
    expect(await cli(migrateCommand, ['--journal', db.url])).toEqual({
      out: `outbox schema ferry: version 0 → ${OUTBOX_SCHEMA_VERSION}\n`,
      err: '',
      code: 0,
    });
    expect((await cli(migrateCommand, ['--journal', db.url])).out).toBe(
      `outbox schema ferry is at version ${OUTBOX_SCHEMA_VERSION}: nothing to do\n`,
    );
    const printed = await cli(migrateCommand, ['--print']);
    expect(printed.code).toBe(0);
    const other = await database('cli_print');
    await other.pool.query(printed.out);
    expect(await tables(other)).toBe(await tables(db));
    expect((await cli(migrateCommand, ['--journal', other.url])).out).toContain('nothing to do');
  });

  it('upgrades a version-1 outbox in place, keeping its rows', async () => {
    const db = await outboxAt('cli_upgrade', 1);
    const ids = await enqueueMany(db.pool, requests('q', 'kept', 3));

    expect((await cli(migrateCommand, ['--journal', db.url])).out).toBe(
      `outbox schema ferry: version 1 → ${OUTBOX_SCHEMA_VERSION}\n`,
    );
    const rows = await db.pool.query('SELECT message_id FROM ferry.outbox ORDER BY seq');
    expect(rows.rows.map((row: { message_id: string }) => row.message_id)).toEqual(ids);
    // Version 2's point: no index on the lease column and room on each page, so claims are HOT updates.
    const indexes = await db.pool.query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'ferry'
      AND tablename = 'outbox' AND indexdef LIKE '%lease_epoch%'`);
    expect(indexes.rows).toEqual([]);
    const options = await db.pool.query(
      `SELECT reloptions FROM pg_class WHERE oid = 'ferry.outbox'::regclass`,
    );
    expect(options.rows[0]?.reloptions).toContain('fillfactor=50');
  });

  it('upgrades a version-3 outbox under a relay that keeps claiming with the call it prepared', async () => {
    const db = await outboxAt('cli_upgrade_claim', 3);
    await enqueueMany(db.pool, requests('q', 'claimed', 2));
    const lease = await db.pool.query(
      `INSERT INTO ferry.leases (relay, expires_at) VALUES ('v3', now() + interval '1 hour') RETURNING epoch::text`,
    );
    const relay = await db.pool.connect();
    try {
      // A version-3 relay's claim: the two-argument call, prepared on its connection.
      const claim = { name: 'ferry_claim_ferry', text: 'SELECT * FROM "ferry".claim($1, $2)' };
      const values = [lease.rows[0]?.epoch, 1];
      const ids = async () => (await relay.query({ ...claim, values })).rows.map((row) => row.message_id);
      expect(await ids()).toEqual(['claimed-0']);
      expect((await cli(migrateCommand, ['--journal', db.url])).out).toBe(
        `outbox schema ferry: version 3 → ${OUTBOX_SCHEMA_VERSION}\n`,
      );
      expect(await ids()).toEqual(['claimed-1']);
    } finally {
      relay.release();
    }
  });

  it('prints the SQL docs/outbox.md shows', async () => {
    const doc = readFileSync(new URL('../../docs/outbox.md', import.meta.url), 'utf8');
    const block = /```sql\n([\s\S]*?)```/.exec(doc)?.[1];
    expect((await cli(migrateCommand, ['--print'])).out).toBe(block);
  });

  it('reports a newer schema and a journal that is not postgres (exit 2)', async () => {
    const db = await database('cli_new');
    await cli(migrateCommand, ['--journal', db.url]);
    await db.pool.query('INSERT INTO ferry.migrations (version) VALUES (99)');
    const newer = await cli(migrateCommand, ['--journal', db.url]);
    expect(newer.code).toBe(2);
    expect(newer.err).toContain('version 99, newer than this ferry');
    const notPostgres = await cli(migrateCommand, ['--journal', 'redis://127.0.0.1:6379']);
    expect(notPostgres.code).toBe(2);
    expect(notPostgres.err).toContain('needs --journal postgres://');
  });
});

describe('ferry journal on the postgres outbox', () => {
  it('counts, lists and exports the rows', async () => {
    const db = await database('cli_journal');
    await cli(migrateCommand, ['--journal', db.url]);
    await enqueueMany(db.pool, requests('q', 'listed', 3));
    const stats = await cli(journalCommand, ['stats', '--journal', db.url, '--json']);
    expect(stats.code, stats.err).toBe(0);
    expect(JSON.parse(stats.out)).toMatchObject({
      schemaVersion: OUTBOX_SCHEMA_VERSION,
      unfinished: 3,
      pending: 3,
      confirmed: 0,
      deadLettered: 0,
    });
    const list = await cli(journalCommand, ['list', '--journal', db.url, '--json']);
    expect(
      list.out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).messageId),
    ).toEqual(['listed-0', 'listed-1', 'listed-2']);
    const exported = await cli(journalCommand, ['export', '--journal', db.url]);
    const lines = exported.out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.type, line.messageId])).toEqual([
      ['accepted', 'listed-0'],
      ['accepted', 'listed-1'],
      ['accepted', 'listed-2'],
    ]);
    expect(Buffer.from(lines[0].message.content, 'base64').toString()).toBe(
      JSON.stringify({ run: 'listed', n: 0 }),
    );
  });
});
