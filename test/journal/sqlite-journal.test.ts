import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database, { type Database as Connection } from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { BatchOp } from '../../src/journal/buffered-journal.js';
import { encodeEvent } from '../../src/journal/codec.js';
import { eventMessageId, foldJournal } from '../../src/journal/fold.js';
import type { JournalEvent, PendingMessage } from '../../src/journal/journal.js';
import { JournalError } from '../../src/journal/journal-error.js';
import { foldReader, openJournalReader } from '../../src/journal/reader.js';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { FERRY_APPLICATION_ID } from '../../src/journal/sqlite-store.js';
import { createProducer } from '../../src/producer/producer.js';
import { FakeBroker } from '../support/fake-broker.js';
import { outbound } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `journal-${++files}.db`);

const failure = { code: 'NACKED', message: 'nacked', permanent: false };
/** One message in each state, and one finished. */
const HISTORY: JournalEvent[] = [
  { type: 'accepted', message: outbound('a') },
  { type: 'accepted', message: outbound('b') },
  { type: 'accepted', message: outbound('c') },
  { type: 'accepted', message: outbound('d') },
  { type: 'failed', messageId: 'b', attempts: 1, failure, at: 10 },
  { type: 'failed', messageId: 'b', attempts: 1, failure, at: 11, random: 77 },
  { type: 'retry-scheduled', messageId: 'b', delayMs: 1_200, retryAt: 1_211, random: 78, at: 11 },
  { type: 'failed', messageId: 'c', attempts: 3, failure, at: 12, random: 5 },
  { type: 'parked', messageId: 'c', deadLetterFailures: 1, retryAt: 60_012, at: 12 },
  { type: 'confirmed', messageId: 'd', at: 13 },
];

async function rowCount(path: string): Promise<number> {
  const reader = await openJournalReader({ kind: 'sqlite', path });
  let count = 0;
  for await (const _ of reader.events()) count += 1;
  await reader.close();
  return count;
}

/** The message ids of the rows in the file, in journal order. */
function rowIds(path: string): string[] {
  const db = new Database(path, { readonly: true });
  const ids = db.prepare('SELECT message_id FROM events ORDER BY seq').pluck().all() as string[];
  db.close();
  return ids;
}

function eventsIndexes(path: string): string[] {
  const db = new Database(path, { readonly: true });
  const names = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'")
    .pluck()
    .all() as string[];
  db.close();
  return names;
}

/**
 * A journal file as ferry 0.1 wrote it (schema 1): the same tables plus an index on `message_id`,
 * which that version created on open and deleted finished messages through.
 */
function legacyJournal(path: string, events: readonly JournalEvent[]): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      seq INTEGER PRIMARY KEY,
      message_id TEXT NOT NULL,
      type TEXT NOT NULL,
      at INTEGER NOT NULL,
      data TEXT NOT NULL,
      content BLOB
    );
    CREATE INDEX IF NOT EXISTS events_by_message ON events (message_id);
    CREATE TABLE IF NOT EXISTS totals (outcome TEXT PRIMARY KEY, count INTEGER NOT NULL);
  `);
  db.pragma(`application_id = ${FERRY_APPLICATION_ID}`);
  db.pragma('user_version = 1');
  const insert = db.prepare(
    'INSERT INTO events (message_id, type, at, data, content) VALUES (?, ?, ?, ?, ?)',
  );
  for (const event of events) {
    const row = encodeEvent(event);
    insert.run(row.messageId, row.type, row.at, row.data, row.content);
  }
  db.close();
}

/** Pending messages by id, to compare folds whose acceptance order may differ (re-accepted ids). */
function byId(pending: readonly PendingMessage[]): PendingMessage[] {
  return [...pending].sort((a, b) => a.message.messageId.localeCompare(b.message.messageId));
}

async function openError(journal: SqliteJournal): Promise<JournalError> {
  const error = await journal.open().then(
    () => undefined,
    (reason: unknown) => reason,
  );
  await journal.close();
  if (!(error instanceof JournalError)) throw new Error(`expected a JournalError, got ${String(error)}`);
  return error;
}

describe('sqlite journal', () => {
  it('reopened, it folds to what the memory fold of the same events gives', async () => {
    const path = freshPath();
    const first = new SqliteJournal({ path });
    expect(await first.open()).toEqual([]);
    for (const event of HISTORY) first.append(event);
    await first.commit();
    expect(first.pendingCount()).toBe(3);
    await first.close();

    const second = new SqliteJournal({ path });
    const recovered = await second.open();
    expect(recovered).toEqual(foldJournal(HISTORY).pending());
    expect(recovered.map((record) => [record.message.messageId, record.state])).toEqual([
      ['a', 'pending'],
      ['b', 'retrying'],
      ['c', 'parked'],
    ]);
    // Bodies and Buffer header values come back as bytes.
    expect(recovered[0]?.message.content.equals(outbound('a').content)).toBe(true);
    expect(Buffer.isBuffer(recovered[0]?.message.properties.headers?.raw)).toBe(true);
    expect(second.pendingCount()).toBe(3);
    await second.close();
  });

  it('compacts: a finished message leaves no rows behind, only a count', async () => {
    const path = freshPath();
    const journal = new SqliteJournal({ path });
    await journal.open();
    for (let n = 0; n < 200; n += 1) journal.append({ type: 'accepted', message: outbound(`m-${n}`, 1_024) });
    await journal.commit();
    expect(await rowCount(path)).toBe(200);
    for (let n = 0; n < 200; n += 1) {
      journal.append({ type: n % 2 === 0 ? 'confirmed' : 'dead-lettered', messageId: `m-${n}`, at: n });
    }
    await journal.commit();
    expect(journal.pendingCount()).toBe(0);
    expect(await rowCount(path)).toBe(0);
    const reader = await openJournalReader({ kind: 'sqlite', path });
    expect(await reader.totals()).toEqual({ confirmed: 100, deadLettered: 100 });
    await reader.close();
    await journal.close();
  });

  it('group commit: concurrent publishes share transactions, and a commit resolves only once durable', async () => {
    const path = freshPath();
    const batches: number[] = [];
    class Counting extends SqliteJournal {
      protected override write(ops: readonly BatchOp[]): void {
        batches.push(ops.length);
        super.write(ops);
      }
    }
    const journal = new Counting({ path });
    await journal.open();
    const commits = Array.from({ length: 1_000 }, (_, n) => {
      journal.append({ type: 'accepted', message: outbound(`m-${n}`) });
      return journal.commit().then(() => n);
    });
    const first = await commits[0];
    expect(first).toBe(0);
    // Durable when it resolves: another connection sees all of that batch.
    expect(await rowCount(path)).toBeGreaterThanOrEqual(batches[0] ?? Number.POSITIVE_INFINITY);
    await Promise.all(commits);
    expect(batches.reduce((sum, size) => sum + size, 0)).toBe(1_000);
    expect(batches.length).toBeLessThanOrEqual(2);
    await journal.close();
  });

  it('accepts before open: the first commit opens the file', async () => {
    const path = freshPath();
    const journal = new SqliteJournal({ path, groupCommitMs: 2 });
    journal.append({ type: 'accepted', message: outbound('early') });
    await journal.commit();
    expect(await rowCount(path)).toBe(1);
    // open() afterwards returns what was there before, not what this journal appended.
    expect(await journal.open()).toEqual([]);
    await journal.close();
  });

  it('durability: process is synchronous=NORMAL, power is FULL', async () => {
    for (const [durability, level] of [
      ['process', 1],
      ['power', 2],
    ] as const) {
      const journal = new SqliteJournal({ path: freshPath(), durability });
      await journal.open();
      const db = (journal as unknown as { db: Connection }).db;
      expect(db.pragma('synchronous', { simple: true })).toBe(level);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      await journal.close();
    }
  });

  it('refuses a corrupt file with a clear error and changes nothing in it', async () => {
    const path = freshPath();
    const garbage = Buffer.from('this is not a database, but it is somebody’s file\n'.repeat(200));
    writeFileSync(path, garbage);
    const error = await openError(new SqliteJournal({ path }));
    expect(error.code).toBe('JOURNAL_CORRUPT');
    expect(error.message).toContain(path);
    expect(readFileSync(path).equals(garbage)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('refuses a damaged journal page and a sqlite file that is not a journal', async () => {
    const path = freshPath();
    const journal = new SqliteJournal({ path });
    await journal.open();
    for (let n = 0; n < 300; n += 1) journal.append({ type: 'accepted', message: outbound(`m-${n}`, 512) });
    await journal.close();
    const bytes = readFileSync(path);
    bytes.fill(0xff, 4_096 * 3, 4_096 * 3 + 600);
    writeFileSync(path, bytes);
    const damaged = await openError(new SqliteJournal({ path }));
    expect(damaged.code).toBe('JOURNAL_CORRUPT');
    expect(readFileSync(path).equals(bytes)).toBe(true);

    const other = freshPath();
    const db = new Database(other);
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'x')");
    db.close();
    const foreign = await openError(new SqliteJournal({ path: other }));
    expect(foreign.code).toBe('JOURNAL_CORRUPT');
    expect(foreign.message).toContain('not a ferry journal');
  });

  it('refuses a journal from a newer ferry and keeps every row of it', async () => {
    const path = freshPath();
    const journal = new SqliteJournal({ path });
    await journal.open();
    for (const event of HISTORY) journal.append(event);
    await journal.close();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    const before = readFileSync(path);

    const error = await openError(new SqliteJournal({ path }));
    expect(error.code).toBe('JOURNAL_TOO_NEW');
    expect(error.message).toMatch(/newer ferry.*schema 99/);
    expect(readFileSync(path).equals(before)).toBe(true);
    const raw = new Database(path, { readonly: true });
    // Every event but the finished message's (its accepted row and its outcome were compacted away).
    expect(raw.prepare('SELECT count(*) AS n FROM events').get()).toEqual({ n: HISTORY.length - 2 });
    raw.close();
  });

  it('opens a file written by ferry 0.1 (indexed by message id) and leaves one that 0.1 can still use', async () => {
    const path = freshPath();
    const unfinished = HISTORY.filter((event) => eventMessageId(event) !== 'd');
    legacyJournal(path, unfinished);
    expect(eventsIndexes(path)).toEqual(['events_by_message']);

    const journal = new SqliteJournal({ path });
    expect(await journal.open()).toEqual(foldJournal(unfinished).pending());
    expect(eventsIndexes(path)).toEqual([]);
    // b's rows were read at open: finishing it deletes every one of them, and only them.
    journal.append({ type: 'confirmed', messageId: 'b', at: 20 });
    journal.append({ type: 'accepted', message: outbound('e') });
    await journal.close();
    expect(rowIds(path)).toEqual([...unfinished.map(eventMessageId).filter((id) => id !== 'b'), 'e']);

    // What 0.1 does to the file: creates its index when it opens it, deletes by message id.
    const old = new Database(path);
    old.exec('CREATE INDEX IF NOT EXISTS events_by_message ON events (message_id)');
    old.prepare('DELETE FROM events WHERE message_id = ?').run('a');
    old.close();

    const again = new SqliteJournal({ path });
    expect((await again.open()).map((record) => [record.message.messageId, record.state])).toEqual([
      ['c', 'parked'],
      ['e', 'pending'],
    ]);
    again.append({ type: 'dead-lettered', messageId: 'c', at: 21 });
    await again.close();
    expect(rowIds(path)).toEqual(['e']);
    expect(eventsIndexes(path)).toEqual([]);
    // Still schema 1, which is what ferry 0.1 checks before it opens a file (it refuses newer ones).
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(1);
    raw.close();
  });

  it('a failed write changes nothing: later finishes delete exactly their own rows', async () => {
    const path = freshPath();
    const journal = new SqliteJournal({ path });
    await journal.open();
    journal.append({ type: 'accepted', message: outbound('a') });
    journal.append({ type: 'accepted', message: outbound('b') });
    await journal.commit();
    // One transaction: deletes a's row, inserts c's, then fails on d (JSON cannot carry a bigint).
    const poisoned = outbound('d');
    journal.append({ type: 'confirmed', messageId: 'a', at: 1 });
    journal.append({ type: 'accepted', message: outbound('c') });
    journal.append({
      type: 'accepted',
      message: { ...poisoned, properties: { ...poisoned.properties, headers: { n: 1n } } },
    });
    await expect(journal.commit()).rejects.toBeInstanceOf(JournalError);
    expect(rowIds(path)).toEqual(['a', 'b']);
    // e's row is given the seq c's rolled-back row had: finishing c must not delete it.
    journal.append({ type: 'accepted', message: outbound('e') });
    await journal.commit();
    journal.append({ type: 'confirmed', messageId: 'c', at: 2 });
    journal.append({ type: 'confirmed', messageId: 'd', at: 2 });
    journal.append({ type: 'confirmed', messageId: 'b', at: 2 });
    await journal.close();
    // a's confirm was lost with the failed batch: its row stays, and it is published again after a restart.
    expect(rowIds(path)).toEqual(['a', 'e']);
  });

  it('a message id accepted again in the batch that finishes it keeps its new row', async () => {
    const path = freshPath();
    const journal = new SqliteJournal({ path });
    await journal.open();
    journal.append({ type: 'accepted', message: outbound('x', 16, 1) });
    journal.append({ type: 'failed', messageId: 'x', attempts: 1, failure, at: 2 });
    await journal.commit();
    journal.append({ type: 'confirmed', messageId: 'x', at: 3 });
    journal.append({ type: 'accepted', message: outbound('x', 16, 4) });
    await journal.close();
    const reopened = new SqliteJournal({ path });
    const recovered = await reopened.open();
    expect(recovered.map((record) => [record.message.acceptedAt, record.state])).toEqual([[4, 'pending']]);
    await reopened.close();
  });

  it("a seq freed by a finished message and given to another's row is not deleted with the first's next finish", async () => {
    const path = freshPath();
    const journal = new SqliteJournal({ path });
    await journal.open();
    journal.append({ type: 'accepted', message: outbound('a') });
    await journal.commit();
    // a's row is deleted before b's is inserted: b's row takes the seq a's had (the table's largest).
    journal.append({ type: 'confirmed', messageId: 'a', at: 1 });
    journal.append({ type: 'accepted', message: outbound('b') });
    await journal.commit();
    journal.append({ type: 'accepted', message: outbound('a') });
    await journal.commit();
    journal.append({ type: 'confirmed', messageId: 'a', at: 2 });
    await journal.close();
    expect(rowIds(path)).toEqual(['b']);
  });

  it('any mix of events, batches and restarts: the file folds to the events, with no row of a finished message', async () => {
    const ids = ['m0', 'm1', 'm2', 'm3'];
    type Step =
      | { readonly kind: 'accept' | 'fail' | 'confirm' | 'dead-letter'; readonly id: string }
      | { readonly kind: 'commit' }
      | { readonly kind: 'restart' };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({
        kind: fc.constantFrom('accept' as const, 'fail' as const, 'confirm' as const, 'dead-letter' as const),
        id: fc.constantFrom(...ids),
      }),
      fc.constantFrom({ kind: 'commit' } as const, { kind: 'restart' } as const),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const path = freshPath();
        const appended: JournalEvent[] = [];
        let journal = new SqliteJournal({ path });
        await journal.open();
        for (const [at, next] of steps.entries()) {
          if (next.kind === 'commit') {
            await journal.commit();
            continue;
          }
          if (next.kind === 'restart') {
            await journal.close();
            journal = new SqliteJournal({ path });
            expect(byId(await journal.open())).toEqual(byId(foldJournal(appended).pending()));
            continue;
          }
          const event: JournalEvent =
            next.kind === 'accept'
              ? { type: 'accepted', message: outbound(next.id, 8, at) }
              : next.kind === 'fail'
                ? { type: 'failed', messageId: next.id, attempts: at, failure, at }
                : { type: next.kind === 'confirm' ? 'confirmed' : 'dead-lettered', messageId: next.id, at };
          appended.push(event);
          journal.append(event);
        }
        await journal.close();
        const expected = foldJournal(appended).pending();
        const reader = await openJournalReader({ kind: 'sqlite', path });
        expect(byId((await foldReader(reader)).pending())).toEqual(byId(expected));
        await reader.close();
        const unfinished = new Set(expected.map((record) => record.message.messageId));
        expect(rowIds(path).filter((id) => !unfinished.has(id))).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('createProducer({ journal: { kind: "sqlite" } }) journals there; a journal dependency still overrides', async () => {
    const path = freshPath();
    const producer = createProducer(
      {
        journal: { kind: 'sqlite', path, durability: 'power' },
        closeTimeoutMs: 0,
        topology: { declare: false },
      },
      { broker: new FakeBroker() },
    );
    await producer.publish({ exchange: 'tasks', routingKey: 'ml.embed', body: { n: 1 }, messageId: 'p-1' });
    await producer.close({ timeoutMs: 0 });
    const reader = await openJournalReader({ kind: 'sqlite', path });
    expect((await foldReader(reader)).pending().map((record) => record.message.messageId)).toEqual(['p-1']);
    await reader.close();

    expect(() => createProducer({ journal: { kind: 'sqlite', path: '' } })).toThrow(/journal/);
    expect(() => createProducer({ journal: { kind: 'redis', url: 'http://x' } as never })).toThrow(
      /redis:\/\//,
    );
  });
});
