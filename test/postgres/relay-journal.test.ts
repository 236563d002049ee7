/**
 * The postgres journal on its own (no broker): migrations, claims, the wake-up at commit, fencing of a
 * relay whose lease expired, and the take-over of its rows.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { parseJournalSpec } from '../../src/journal/create-journal.js';
import { PostgresJournal } from '../../src/journal/postgres-journal.js';
import { enqueueMany } from '../../src/postgres/enqueue.js';
import { migrate, OUTBOX_SCHEMA_VERSION } from '../../src/postgres/migrations.js';
import { OutboxSchema } from '../../src/postgres/outbox-schema.js';
import { claimSql, releaseSql, writeSql } from '../../src/postgres/relay-sql.js';
import { outbound } from '../journal/fixtures.js';
import { createTestDatabase, interceptedPool, requests, type TestDatabase, waitUntil } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function database(label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  cleanups.push(() => db.drop());
  return db;
}

function journal(db: TestDatabase, options: Partial<ConstructorParameters<typeof PostgresJournal>[0]> = {}) {
  const made = new PostgresJournal({ url: db.url, onError: () => undefined, ...options });
  cleanups.push(() => made.close());
  return made;
}

async function catalog(pool: pg.Pool): Promise<string> {
  const tables = await pool.query(
    `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
     WHERE table_schema = 'ferry' ORDER BY 1`,
  );
  const versions = await pool.query('SELECT version FROM ferry.migrations ORDER BY 1');
  return JSON.stringify([tables.rows, versions.rows]);
}

describe('postgres journal', () => {
  it('migrates once when several relays start together, and refuses a newer schema untouched', async () => {
    const db = await database('migrate');
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: db.url, max: 1 }));
    try {
      const results = await Promise.all(pools.map((pool) => migrate(pool, new OutboxSchema())));
      expect(results.filter((r) => r.from === 0 && r.to === OUTBOX_SCHEMA_VERSION)).toHaveLength(1);
      expect(results.filter((r) => r.from === OUTBOX_SCHEMA_VERSION)).toHaveLength(3);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
    await db.pool.query('INSERT INTO ferry.migrations (version) VALUES ($1)', [OUTBOX_SCHEMA_VERSION + 1]);
    const before = await catalog(db.pool);
    await expect(migrate(db.pool, new OutboxSchema())).rejects.toMatchObject({ code: 'JOURNAL_TOO_NEW' });
    await expect(journal(db).open()).rejects.toMatchObject({ code: 'JOURNAL_TOO_NEW' });
    expect(await catalog(db.pool)).toBe(before);
  });

  it('keeps everything in its own schema when another is configured', async () => {
    const db = await database('schema');
    const relay = journal(db, { schema: 'jobs_out' });
    await relay.open();
    await enqueueMany(db.pool, requests('q', 'own', 2), { schema: 'jobs_out' });
    expect((await relay.claim()).map((r) => r.message.messageId)).toEqual(['own-0', 'own-1']);
    const ferry = await db.pool.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'ferry'`);
    expect(ferry.rows[0].n).toBe(0);
  });

  it('wakes a waiting claim at commit, long before its poll', async () => {
    const db = await database('notify');
    // The pool is watched so the commit comes only once the claim found nothing and waits.
    let claimQueries = 0;
    const watched = interceptedPool(db.pool, async (text, run) => {
      const result = await run();
      if (text === claimSql(new OutboxSchema())) claimQueries += 1;
      return result;
    });
    const relay = journal(db, { pool: watched, pollMs: 30_000 });
    await relay.open();
    const waiting = relay.claim();
    await waitUntil(() => claimQueries === 1, 'the first, empty claim');
    const started = Date.now();
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await enqueueMany(client, requests('q', 'woken', 1));
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const claimed = await waiting;
    expect(claimed.map((r) => r.message.messageId)).toEqual(['woken-0']);
    expect(claimQueries).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses the writes of a relay whose lease expired, and another takes its rows over', async () => {
    const db = await database('fence');
    const first = journal(db, { relayId: 'first' });
    const second = journal(db, { relayId: 'second', pollMs: 50 });
    await first.open();
    await second.open();
    await enqueueMany(db.pool, requests('q', 'fenced', 3));
    const held = await first.claim();
    expect(held).toHaveLength(3);
    expect(await second.claim()).toEqual([]);
    const staleEpoch = first.leaseEpoch;
    // The first relay stalls past its lease (a long pause, or cut off from PostgreSQL).
    await db.pool.query(`UPDATE ferry.leases SET expires_at = now() - interval '1 second' WHERE epoch = $1`, [
      staleEpoch,
    ]);
    const taken = await second.claim();
    expect(taken.map((r) => r.message.messageId)).toEqual(['fenced-0', 'fenced-1', 'fenced-2']);
    first.append({ type: 'confirmed', messageId: 'fenced-0', at: Date.now() });
    await expect(first.commit()).rejects.toMatchObject({ code: 'JOURNAL_LEASE_LOST' });
    expect(first.leaseEpoch).not.toBe(staleEpoch);
    expect(first.pendingCount()).toBe(0);
    const rows = await db.pool.query(
      'SELECT message_id, lease_epoch::text AS epoch FROM ferry.outbox ORDER BY seq',
    );
    expect(rows.rows).toEqual(
      ['fenced-0', 'fenced-1', 'fenced-2'].map((id) => ({ message_id: id, epoch: second.leaseEpoch })),
    );
    second.append({ type: 'confirmed', messageId: 'fenced-0', at: Date.now() });
    await second.commit();
    const left = await db.pool.query('SELECT count(*)::int AS n FROM ferry.outbox');
    expect(left.rows[0].n).toBe(2);
  });

  it('resumes a taken-over message where its events left it', async () => {
    const db = await database('resume');
    const first = journal(db, { relayId: 'first' });
    const second = journal(db, { relayId: 'second', pollMs: 50 });
    await first.open();
    await second.open();
    await enqueueMany(db.pool, requests('q', 'resumed', 1));
    await first.claim();
    const failure = { code: 'NACKED', message: 'nacked', permanent: false };
    first.append({ type: 'failed', messageId: 'resumed-0', attempts: 1, failure, at: 1, random: 7 });
    first.append({
      type: 'retry-scheduled',
      messageId: 'resumed-0',
      delayMs: 20,
      retryAt: 99,
      random: 8,
      at: 2,
    });
    await first.commit();
    await db.pool.query(`UPDATE ferry.leases SET expires_at = now() - interval '1 second' WHERE epoch = $1`, [
      first.leaseEpoch,
    ]);
    const [record] = await second.claim();
    expect(record).toMatchObject({
      state: 'retrying',
      attempts: 1,
      random: 8,
      retryAt: 99,
      lastFailure: failure,
    });
  });

  it('holds 2,000 unfinished messages unless maxClaimed says otherwise', async () => {
    const db = await database('default_bound');
    const relay = journal(db, { pollMs: 50 });
    await relay.open();
    await enqueueMany(db.pool, requests('q', 'many', 2_100));
    let held = 0;
    for (let claimed = await relay.claim(); claimed.length > 0; claimed = await relay.claim()) {
      held += claimed.length;
    }
    expect(held).toBe(2_000);
    await relay.close();
  });

  it('holds at most maxClaimed unfinished messages, and claims more as they finish', async () => {
    const db = await database('bound');
    const relay = journal(db, { maxClaimed: 3, pollMs: 50 });
    await relay.open();
    await enqueueMany(db.pool, requests('q', 'bound', 5));
    expect((await relay.claim()).map((r) => r.message.messageId)).toEqual(['bound-0', 'bound-1', 'bound-2']);
    expect(await relay.claim()).toEqual([]);
    relay.append({ type: 'confirmed', messageId: 'bound-0', at: Date.now() });
    relay.append({ type: 'dead-lettered', messageId: 'bound-1', at: Date.now() });
    await relay.commit();
    expect((await relay.claim()).map((r) => r.message.messageId)).toEqual(['bound-3', 'bound-4']);
    const totals = await db.pool.query('SELECT outcome, count::int AS n FROM ferry.totals ORDER BY 1');
    expect(totals.rows).toEqual([
      { outcome: 'confirmed', n: 1 },
      { outcome: 'dead-lettered', n: 1 },
    ]);
  });

  it('drains a backlog in full claims, the next sent ahead, each row once; a close hands back what was claimed ahead', async () => {
    const db = await database('ahead');
    const relay = journal(db, { pollMs: 50, maxClaimed: 1_000 });
    await relay.open();
    await enqueueMany(db.pool, requests('q', 'ahead', 1_100));
    const ids = (claimed: readonly { message: { messageId: string } }[]) =>
      claimed.map((r) => r.message.messageId);
    const first = ids(await relay.claim());
    expect(first).toEqual(Array.from({ length: 500 }, (_, i) => `ahead-${i}`));
    // The first came back full: the second was sent before the first was handed over.
    const second = ids(await relay.claim());
    expect(second).toEqual(Array.from({ length: 500 }, (_, i) => `ahead-${500 + i}`));
    // At maxClaimed nothing more is claimed, ahead or not, until messages finish.
    expect(await relay.claim()).toEqual([]);
    for (const id of first.slice(0, 100)) relay.append({ type: 'confirmed', messageId: id, at: Date.now() });
    await relay.commit();
    const third = ids(await relay.claim());
    expect(third).toEqual(Array.from({ length: 100 }, (_, i) => `ahead-${1_000 + i}`));
    // A relay that closes right after a full claim has a claim out ahead: its rows go back too.
    const other = journal(db, { pollMs: 50 });
    await other.open();
    await enqueueMany(db.pool, requests('q', 'more', 600));
    expect(ids(await other.claim())).toHaveLength(500);
    await other.close();
    const held = await db.pool.query(
      `SELECT count(*)::int AS n FROM ferry.outbox WHERE message_id LIKE 'more-%' AND lease_epoch IS NOT NULL`,
    );
    expect(held.rows[0]?.n).toBe(0);
  });

  it('deletes the rows it claimed by seq and the ones it accepted itself by id, and counts them all', async () => {
    const db = await database('by_seq');
    const write = writeSql(new OutboxSchema());
    const writes: unknown[][] = [];
    const writeNames = new Set<string | undefined>();
    const watched = interceptedPool(db.pool, (text, run, values, name) => {
      if (text === write) {
        writes.push(values ?? []);
        writeNames.add(name);
      }
      return run();
    });
    const relay = journal(db, { pool: watched, pollMs: 50 });
    await relay.open();
    await enqueueMany(db.pool, requests('q', 'claimed', 2));
    expect(await relay.claim()).toHaveLength(2);
    const seqs = await db.pool.query('SELECT seq::text AS seq FROM ferry.outbox ORDER BY seq');
    relay.append({ type: 'accepted', message: outbound('own-0') });
    await relay.commit();
    for (const id of ['claimed-0', 'claimed-1', 'own-0']) {
      relay.append({ type: 'confirmed', messageId: id, at: Date.now() });
    }
    await relay.commit();
    // Every write ran as the one named statement, parsed once per connection.
    expect([...writeNames]).toEqual(['ferry_write_ferry']);
    // Parameters $11 (confirmed by id) and $13 (confirmed by seq) of the last write.
    const last = writes.at(-1) ?? [];
    expect({ byId: last[10], bySeq: last[12] }).toEqual({
      byId: ['own-0'],
      bySeq: seqs.rows.map((row) => row.seq),
    });
    const left = await db.pool.query('SELECT count(*)::int AS n FROM ferry.outbox');
    const totals = await db.pool.query('SELECT outcome, count::int AS n FROM ferry.totals ORDER BY 1');
    expect({ left: left.rows[0]?.n, totals: totals.rows }).toEqual({
      left: 0,
      totals: [
        { outcome: 'confirmed', n: 3 },
        { outcome: 'dead-lettered', n: 0 },
      ],
    });
  });

  it("has no query running on the application's pool once close() resolves, its claim sent ahead included", async () => {
    const db = await database('ahead_close');
    // The second claim (the one sent ahead) is held until the close's release has run, or 200 ms (as
    // long as a close that waits for it needs): a close that did not wait for it would resolve with
    // that claim still running, on a pool the application may end next.
    const release = releaseSql(new OutboxSchema());
    const claim = claimSql(new OutboxSchema());
    let claims = 0;
    let running = 0;
    let releaseRan = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      releaseRan = resolve;
      setTimeout(resolve, 200);
    });
    const gated = interceptedPool(db.pool, async (text, run) => {
      running += 1;
      try {
        if (text === claim) {
          claims += 1;
          if (claims === 2) await gate;
        }
        const rows = await run();
        if (text === release) releaseRan();
        return rows;
      } finally {
        running -= 1;
      }
    });
    const relay = journal(db, { pool: gated, pollMs: 50 });
    await relay.open();
    await enqueueMany(db.pool, requests('q', 'gated', 600));
    expect(await relay.claim()).toHaveLength(500);
    await relay.close();
    expect({ claims, running }).toEqual({ claims: 2, running: 0 });
    // And what it claimed, ahead or not, is free for the next relay at once.
    const held = await db.pool.query(
      `SELECT count(*)::int AS n FROM ferry.outbox WHERE message_id LIKE 'gated-%' AND lease_epoch IS NOT NULL`,
    );
    expect(held.rows[0]?.n).toBe(0);
  });

  it("claims through the schema's claim function, one named statement that carries its planner settings", async () => {
    const db = await database('claim_call');
    const sent: { text: string; name: string | undefined; values: unknown[] | undefined }[] = [];
    let opened = false;
    const watched = interceptedPool(db.pool, (text, run, values, name) => {
      if (opened) sent.push({ text, name, values });
      return run();
    });
    const relay = journal(db, { pool: watched, pollMs: 50 });
    await relay.open();
    opened = true;
    await enqueueMany(db.pool, requests('q', 'called', 3));
    expect((await relay.claim()).map((r) => r.message.messageId)).toEqual([
      'called-0',
      'called-1',
      'called-2',
    ]);
    const claims = sent.filter((s) => s.text.includes('.claim('));
    expect(claims).toEqual([
      {
        text: 'SELECT * FROM "ferry".claim($1, $2, $3)',
        name: 'ferry_claim_ferry',
        values: [relay.leaseEpoch, 500, '0'],
      },
    ]);
    // No transaction is opened around it: the settings are the function's own.
    expect(sent.filter((s) => /^\s*(BEGIN|SET)\b/i.test(s.text))).toEqual([]);
    const settings = await db.pool.query(
      `SELECT proconfig FROM pg_proc WHERE proname = 'claim' AND pronamespace = 'ferry'::regnamespace`,
    );
    expect(settings.rows).toEqual([
      {
        proconfig: [
          'plan_cache_mode=force_generic_plan',
          'enable_sort=off',
          'enable_bitmapscan=off',
          'enable_hashjoin=off',
          'enable_mergejoin=off',
        ],
      },
    ]);
    await relay.close();
  });

  it('claims by walking the primary key, its plan kept, whatever the statistics say', async () => {
    const db = await database('claim_plan');
    await migrate(db.pool, new OutboxSchema());
    const client = await db.pool.connect();
    try {
      // Statistics of a 20,000-row backlog, all claimable: planned from them alone, the kept (generic)
      // plan reads every row and sorts them (measured: 8 sequential scans in 8 claims).
      await client.query(`INSERT INTO ferry.outbox (message_id, exchange, routing_key, content)
        SELECT 'planned-' || g, '', 'q', '\\x00' FROM generate_series(1, 20000) g`);
      await client.query('ANALYZE ferry.outbox');
      const lease = await client.query(
        `INSERT INTO ferry.leases (relay, expires_at) VALUES ('plan', now() + interval '1 hour') RETURNING epoch`,
      );
      const scans = async () => {
        await client.query('SELECT pg_stat_force_next_flush()');
        const row = await client.query(
          `SELECT seq_scan::int AS seq, idx_scan::int AS idx FROM pg_stat_user_tables WHERE relid = 'ferry.outbox'::regclass`,
        );
        return row.rows[0] as { seq: number; idx: number };
      };
      const before = await scans();
      const claimed: string[] = [];
      // More calls than the plan cache's five custom plans, so the kept generic plan runs too; every
      // other call walks from the cursor, as a relay draining a backlog does.
      let cursor = '0';
      for (let call = 0; call < 8; call += 1) {
        const rows = await client.query('SELECT seq, message_id FROM ferry.claim($1, 10, $2)', [
          lease.rows[0]?.epoch,
          call % 2 === 0 ? '0' : cursor,
        ]);
        claimed.push(...rows.rows.map((row: { message_id: string }) => row.message_id));
        cursor = rows.rows.at(-1)?.seq ?? cursor;
      }
      const after = await scans();
      expect(claimed).toEqual(Array.from({ length: 80 }, (_, i) => `planned-${i + 1}`));
      // No read of the whole table; every claim at least one index scan (the walk, then the rows' lookups).
      expect(after.seq - before.seq).toBe(0);
      expect(after.idx - before.idx).toBeGreaterThanOrEqual(8);
    } finally {
      client.release();
    }
  });

  it('claims the good rows around one written by hand that does not decode', async () => {
    const db = await database('corrupt');
    const warnings: unknown[] = [];
    const relay = journal(db, { pollMs: 50, onError: (error) => warnings.push(error) });
    await relay.open();
    await enqueueMany(db.pool, requests('q', 'good', 1));
    await db.pool.query(
      `INSERT INTO ferry.outbox (message_id, exchange, routing_key, content, events)
       VALUES ('bad', '', 'q', '\\x00', '"not a list"')`,
    );
    await enqueueMany(db.pool, requests('q', 'good', 1, 1));
    expect((await relay.claim()).map((r) => r.message.messageId)).toEqual(['good-0', 'good-1']);
    expect(warnings).toEqual([expect.objectContaining({ code: 'JOURNAL_CORRUPT' })]);
  });

  it('gives rows written by plain SQL a content type, their own message id and persistence', async () => {
    const db = await database('plain');
    const relay = journal(db, { pollMs: 50 });
    await relay.open();
    await db.pool.query(
      `INSERT INTO ferry.outbox (message_id, exchange, routing_key, content, properties) VALUES
       ('bare', '', 'q', '\\x00', '{}'),
       ('own', '', 'q', '\\x00', '{"contentType":"text/plain","messageId":"other","persistent":false,"headers":{"a":1}}')`,
    );
    const properties = (await relay.claim()).map((record) => record.message.properties);
    expect(properties).toEqual([
      { contentType: 'application/octet-stream', messageId: 'bare', persistent: true },
      { contentType: 'text/plain', messageId: 'own', persistent: true, headers: { a: 1 } },
    ]);
  });

  it('hands its unfinished rows back at close for the others to take at once', async () => {
    const db = await database('release');
    const first = journal(db, { relayId: 'first' });
    const second = journal(db, { relayId: 'second', pollMs: 30_000 });
    await first.open();
    await second.open();
    await enqueueMany(db.pool, requests('q', 'released', 2));
    expect(await first.claim()).toHaveLength(2);
    const waiting = second.claim();
    await first.close();
    expect((await waiting).map((r) => r.message.messageId)).toEqual(['released-0', 'released-1']);
  });
});

describe('FERRY_JOURNAL', () => {
  it('reads postgres:// and postgresql:// as the postgres journal', () => {
    expect(parseJournalSpec('postgres://app@db:5432/app')).toEqual({
      kind: 'postgres',
      url: 'postgres://app@db:5432/app',
    });
    expect(parseJournalSpec(' postgresql://db/app ')).toEqual({
      kind: 'postgres',
      url: 'postgresql://db/app',
    });
    expect(() => parseJournalSpec('postgres:/nohost')).toThrow(/postgres:\/\/host\/db/);
  });
});
