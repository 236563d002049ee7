/**
 * Opening a sqlite journal file safely: recognise it, refuse one that is corrupt or from a newer ferry
 * before anything is written to it, and read its events. Shared by the journal and the CLI's reader.
 *
 * @internal
 */
import type { Database } from 'better-sqlite3';
import { importOptional } from '../optional-deps.js';
import { decodeEvent, JOURNAL_SCHEMA_VERSION, type StoredEvent } from './codec.js';
import type { JournalEvent } from './journal.js';
import { JournalError } from './journal-error.js';

/** `PRAGMA application_id` of a ferry journal: "fery". */
export const FERRY_APPLICATION_ID = 0x66657279;

/** Opens a database file; read-only opens never create or change it. */
export async function openDatabase(path: string, readonly: boolean): Promise<Database> {
  const { default: Sqlite } = await importOptional(
    'better-sqlite3',
    'the sqlite journal',
    () => import('better-sqlite3'),
  );
  try {
    return new Sqlite(path, readonly ? { readonly: true, fileMustExist: true } : {});
  } catch (error) {
    throw new JournalError(
      'JOURNAL_UNAVAILABLE',
      `cannot open the journal ${path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Checks that `db` is a ferry journal this ferry can read, or a new empty file. Reads only.
 *
 * @returns whether the file is new (no ferry schema yet).
 * @throws JournalError `JOURNAL_CORRUPT` or `JOURNAL_TOO_NEW`.
 */
export function checkJournal(db: Database, path: string): boolean {
  return sqliteErrors(path, () => {
    const version = db.pragma('user_version', { simple: true }) as number;
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
      n: number;
    };
    if (applicationId === 0 && version === 0 && tables.n === 0) return true;
    if (applicationId !== FERRY_APPLICATION_ID) {
      throw new JournalError('JOURNAL_CORRUPT', `${path} is a sqlite database but not a ferry journal`);
    }
    if (version > JOURNAL_SCHEMA_VERSION) {
      throw new JournalError(
        'JOURNAL_TOO_NEW',
        `${path} was written by a newer ferry (journal schema ${version}; this ferry reads up to ${JOURNAL_SCHEMA_VERSION}). Upgrade ferry to use it; nothing in it was changed.`,
      );
    }
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok')
      throw new JournalError('JOURNAL_CORRUPT', `${path} failed its integrity check: ${check}`);
    return false;
  });
}

/**
 * Creates the schema in a new file, brings an older file's up to date, and sets the durability; the
 * only place a journal file is changed.
 */
export function prepareJournal(db: Database, path: string, synchronous: 'NORMAL' | 'FULL'): void {
  sqliteErrors(path, () => {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    // Keep the WAL file from staying large after a burst; checkpoints still run every 1,000 pages.
    db.pragma('journal_size_limit = 67108864');
    db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        type TEXT NOT NULL,
        at INTEGER NOT NULL,
        data TEXT NOT NULL,
        content BLOB
      );
      CREATE TABLE IF NOT EXISTS totals (outcome TEXT PRIMARY KEY, count INTEGER NOT NULL);
    `);
    // Files written by ferry 0.1 index events by message id; finished rows are now deleted by seq, and
    // nothing reads by message id, so the index only cost every insert and delete. Dropping it keeps
    // the file readable and writable by those versions: they create it again when they open it.
    db.exec('DROP INDEX IF EXISTS events_by_message');
    db.pragma(`application_id = ${FERRY_APPLICATION_ID}`);
    db.pragma(`user_version = ${JOURNAL_SCHEMA_VERSION}`);
  });
}

interface EventRow {
  readonly seq: number;
  readonly message_id: string;
  readonly type: StoredEvent['type'];
  readonly at: number;
  readonly data: string;
  readonly content: Buffer | null;
}

/** Reads every event in journal order. */
export function* readEvents(db: Database, path: string): Generator<{ seq: number; event: JournalEvent }> {
  const rows = sqliteErrors(path, () =>
    db.prepare('SELECT seq, message_id, type, at, data, content FROM events ORDER BY seq').iterate(),
  ) as IterableIterator<EventRow>;
  while (true) {
    const next = sqliteErrors(path, () => rows.next());
    if (next.done === true) return;
    const row = next.value;
    const event = decodeEvent(
      { messageId: row.message_id, type: row.type, at: row.at, data: row.data, content: row.content },
      `${path} seq ${row.seq}`,
    );
    yield { seq: row.seq, event };
  }
}

/** Totals of finished messages. */
export function readTotals(db: Database, path: string): { confirmed: number; deadLettered: number } {
  const rows = sqliteErrors(path, () => db.prepare('SELECT outcome, count FROM totals').all()) as {
    outcome: string;
    count: number;
  }[];
  const count = (outcome: string) => rows.find((row) => row.outcome === outcome)?.count ?? 0;
  return { confirmed: count('confirmed'), deadLettered: count('dead-lettered') };
}

/**
 * Runs `read` (or a write, with `action`), turning sqlite's errors into a clear JournalError: "not a
 * database" and "malformed" are `JOURNAL_CORRUPT`, a full disk says so, a failed write is
 * `JOURNAL_WRITE_FAILED`.
 */
export function sqliteErrors<T>(path: string, read: () => T, action: 'read' | 'write' = 'read'): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof JournalError) throw error;
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_FULL') {
      throw new JournalError(
        action === 'write' ? 'JOURNAL_WRITE_FAILED' : 'JOURNAL_UNAVAILABLE',
        `the disk holding the journal ${path} is full: free space there (nothing of this ${action} was kept)`,
        { cause: error },
      );
    }
    if (code === 'SQLITE_NOTADB' || (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'))) {
      throw new JournalError(
        'JOURNAL_CORRUPT',
        `${path} is corrupt or not a sqlite file (${(error as Error).message}); nothing in it was changed`,
        { cause: error },
      );
    }
    throw new JournalError(
      action === 'write' ? 'JOURNAL_WRITE_FAILED' : 'JOURNAL_UNAVAILABLE',
      `cannot ${action} the journal ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
