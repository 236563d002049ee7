import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database, { type Database as Connection } from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { BatchOp } from '../../src/journal/buffered-journal.js';
import { foldJournal } from '../../src/journal/fold.js';
import type { JournalEvent } from '../../src/journal/journal.js';
import { JournalError } from '../../src/journal/journal-error.js';
import { foldReader, openJournalReader } from '../../src/journal/reader.js';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
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

  it('createProducer({ journal: { kind: "sqlite" } }) journals there; a journal dependency still overrides', async () => {
    const path = freshPath();
    const producer = createProducer(
      { topology: false, journal: { kind: 'sqlite', path, durability: 'power' }, closeTimeoutMs: 0 },
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
