/**
 * Where a relay's claims start their walk: after the rows taken last while a backlog drains, and from
 * the oldest row otherwise and every few claims of a run, so rows behind the cursor are not left there.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresJournal } from '../../src/journal/postgres-journal.js';
import { ClaimCursor, CURSOR_RUN } from '../../src/postgres/claim-cursor.js';
import { enqueue, enqueueMany } from '../../src/postgres/enqueue.js';
import { migrate } from '../../src/postgres/migrations.js';
import { OutboxSchema } from '../../src/postgres/outbox-schema.js';
import { claimSql } from '../../src/postgres/relay-sql.js';
import { createTestDatabase, interceptedPool, requests } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const rows = (...seqs: string[]) => seqs.map((seq) => ({ seq }));

describe('ClaimCursor', () => {
  it('starts after the highest seq taken, comparing them as numbers', () => {
    const cursor = new ClaimCursor();
    expect(cursor.fromOldest()).toBe('0');
    expect(cursor.after(rows('98', '100', '99'))).toBe('100');
    expect(cursor.after(rows('9007199254740993', '9007199254740992'))).toBe('9007199254740993');
  });

  it(`walks from the oldest row after ${CURSOR_RUN} claims of a run, then starts a new run`, () => {
    const cursor = new ClaimCursor();
    cursor.fromOldest();
    const starts = Array.from({ length: 2 * CURSOR_RUN + 2 }, (_, n) => cursor.after(rows(String(n + 1))));
    const fromOldest = starts.flatMap((start, n) => (start === '0' ? [n] : []));
    expect(fromOldest).toEqual([CURSOR_RUN, 2 * CURSOR_RUN + 1]);
  });

  it('begins a new run at every claim that is not sent ahead', () => {
    const cursor = new ClaimCursor();
    for (let n = 0; n < CURSOR_RUN - 1; n += 1) cursor.after(rows('5'));
    expect(cursor.fromOldest()).toBe('0');
    expect(cursor.after(rows('7'))).toBe('7');
  });
});

describe('a relay draining a backlog', () => {
  it('claims ahead from its cursor, and takes a row committed late behind it at its next walk from the oldest', async () => {
    const db = await createTestDatabase('claim_cursor');
    cleanups.push(() => db.drop());
    await migrate(db.pool, new OutboxSchema());
    const claim = claimSql(new OutboxSchema());
    const starts: unknown[] = [];
    const watched = interceptedPool(db.pool, (text, run, values) => {
      if (text === claim) starts.push(values?.[2]);
      return run();
    });
    const relay = new PostgresJournal({
      pool: watched,
      pollMs: 50,
      maxClaimed: 20_000,
      onError: () => undefined,
    });
    cleanups.push(() => relay.close());
    await relay.open();

    // A transaction that takes its seq before the backlog's and commits once the relay has passed it.
    const late = await db.pool.connect();
    await late.query('BEGIN');
    const lateId = await enqueue(late, { exchange: '', routingKey: 'q', messageId: 'late', body: {} });
    const claimsInRun = CURSOR_RUN + 2;
    await enqueueMany(db.pool, requests('q', 'backlog', claimsInRun * 500 + 100));

    const claimed: string[][] = [];
    claimed.push((await relay.claim()).map((r) => r.message.messageId));
    await late.query('COMMIT');
    late.release();
    for (let n = 1; n < claimsInRun; n += 1)
      claimed.push((await relay.claim()).map((r) => r.message.messageId));

    // The first claim and the one after CURSOR_RUN claims ahead walk from the oldest row; the others
    // start at the cursor (where exactly is the pure tests' part, above).
    const fromOldest = starts.slice(0, claimsInRun).flatMap((start, n) => (start === '0' ? [n] : []));
    expect(fromOldest).toEqual([0, CURSOR_RUN + 1]);
    const lateAt = claimed.findIndex((ids) => ids.includes(lateId));
    expect({ lateAt, first: claimed[lateAt]?.[0] }).toEqual({ lateAt: CURSOR_RUN + 1, first: lateId });
    // Every row of the backlog claimed so far came once, in order.
    const backlog = claimed.flat().filter((id) => id !== lateId);
    expect(backlog).toEqual(Array.from({ length: backlog.length }, (_, i) => `backlog-${i}`));
  });
});
