/**
 * The embedded journal: one sqlite file (better-sqlite3, WAL mode), group commit, compaction by
 * deleting a message's rows when it finishes. Those rows are found by `seq` (the rowid), remembered
 * per message since open, so the table needs no index on `message_id` (see sqlite-rows.ts).
 *
 * Durability: `process` (the default) uses `synchronous = NORMAL`: a commit survives a crash of this
 * process, and the last commits before a power loss or kernel crash may be rolled back (never
 * corrupted). `power` uses `synchronous = FULL`: every commit is fsynced. Group commit pays that once
 * per batch, not once per message.
 */
import type { Database, Statement } from 'better-sqlite3';
import { emitFerryWarning } from '../warnings.js';
import type { BatchOp } from './buffered-journal.js';
import { BufferedJournal } from './buffered-journal.js';
import { encodeEvent } from './codec.js';
import { eventMessageId, foldJournal } from './fold.js';
import type { JournalEvent, PendingMessage } from './journal.js';
import type { SqliteJournalOptions } from './journal-config.js';
import { JournalError } from './journal-error.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import { acquireJournalLock, type JournalLock } from './sqlite-lock.js';
import { MessageRows, seqRanges } from './sqlite-rows.js';
import { checkJournal, openDatabase, prepareJournal, readEvents, sqliteErrors } from './sqlite-store.js';

export type { Durability, SqliteJournalOptions } from './journal-config.js';

/** sqlite's default `wal_autocheckpoint`, restored when the checkpoint worker fails. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1_000;

interface Statements {
  readonly insert: Statement<[string, string, number, string, Buffer | null]>;
  readonly remove: Statement<[number, number]>;
  readonly total: Statement<[string, number]>;
}

/** A journal in a sqlite file. */
export class SqliteJournal extends BufferedJournal {
  readonly kind = 'sqlite';
  readonly durable = true;
  private db: Database | null = null;
  /**
   * Where each message's rows are; `null` after a failed write, until the next write reads it again
   * from the file (the rolled-back transaction may have changed it half-way).
   */
  private rows: MessageRows | null = null;
  private writeBatch: ((ops: readonly BatchOp[]) => void) | null = null;
  private checkpointer: SqliteCheckpointer | null = null;
  /** Held while open: a journal file has one writer (sqlite-lock.ts). */
  private lock: JournalLock | null = null;

  constructor(private readonly options: SqliteJournalOptions) {
    super(options);
  }

  /** The journal file. */
  get path(): string {
    return this.options.path;
  }

  protected async load(): Promise<readonly PendingMessage[]> {
    const { path } = this.options;
    const lock = await acquireJournalLock(path);
    let db: Database;
    try {
      db = await openDatabase(path, false);
    } catch (error) {
      lock.release();
      throw error;
    }
    try {
      const fresh = checkJournal(db, path);
      const events: JournalEvent[] = [];
      const rows = new MessageRows();
      if (!fresh) {
        for (const { seq, event } of readEvents(db, path)) {
          events.push(event);
          rows.add(eventMessageId(event), seq);
        }
      }
      const folded = foldJournal(events);
      prepareJournal(db, path, this.options.durability === 'power' ? 'FULL' : 'NORMAL');
      this.prepareWrites(db);
      this.db = db;
      this.lock = lock;
      this.rows = rows;
      this.checkpointOffThread(db);
      return folded.pending();
    } catch (error) {
      db.close();
      lock.release();
      throw error;
    }
  }

  protected write(ops: readonly BatchOp[]): void {
    const write = this.writeBatch;
    if (write === null)
      throw new JournalError('JOURNAL_WRITE_FAILED', `the journal ${this.options.path} is closed`);
    sqliteErrors(
      this.options.path,
      () => {
        try {
          write(ops);
        } catch (error) {
          this.rows = null;
          throw error;
        }
      },
      'write',
    );
  }

  protected async closeStore(): Promise<void> {
    const db = this.db;
    this.db = null;
    this.rows = null;
    this.writeBatch = null;
    const checkpointer = this.checkpointer;
    this.checkpointer = null;
    await checkpointer?.stop();
    const lock = this.lock;
    this.lock = null;
    if (db === null) return;
    try {
      // Folds the WAL back into the file so a closed journal is one file again.
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    } finally {
      lock?.release();
    }
  }

  /** Hands checkpoints to a worker thread; back to sqlite's own in the commits if the worker fails. */
  private checkpointOffThread(db: Database): void {
    db.pragma('wal_autocheckpoint = 0');
    this.checkpointer = new SqliteCheckpointer(
      this.options.path,
      (error) => {
        if (this.db !== db) return;
        db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
        emitFerryWarning(
          'FerryJournalWarning',
          'the sqlite checkpoint worker failed; checkpointing in commits',
          error,
        );
      },
      this.options.walTruncateBytes,
    );
  }

  private prepareWrites(db: Database): void {
    const statements: Statements = {
      insert: db.prepare('INSERT INTO events (message_id, type, at, data, content) VALUES (?, ?, ?, ?, ?)'),
      remove: db.prepare('DELETE FROM events WHERE seq BETWEEN ? AND ?'),
      total: db.prepare(
        'INSERT INTO totals (outcome, count) VALUES (?, ?) ON CONFLICT (outcome) DO UPDATE SET count = count + excluded.count',
      ),
    };
    this.writeBatch = db.transaction((ops: readonly BatchOp[]) => {
      this.rows ??= MessageRows.read(db);
      const rows = this.rows;
      // Deletes first, so the inserts can reuse the pages they free. A batch keeps only the inserts
      // that follow a message's finish (compactBatch), so this is the batch's own order per message.
      const finished: number[] = [];
      let confirmed = 0;
      let deadLettered = 0;
      for (const op of ops) {
        if (op.op !== 'delete') continue;
        rows.take(op.messageId, finished);
        if (op.outcome === 'confirmed') confirmed += 1;
        else deadLettered += 1;
      }
      for (const [first, last] of seqRanges(finished)) statements.remove.run(first, last);
      if (confirmed > 0) statements.total.run('confirmed', confirmed);
      if (deadLettered > 0) statements.total.run('dead-lettered', deadLettered);
      for (const op of ops) {
        if (op.op !== 'insert') continue;
        const row = encodeEvent(op.event);
        const { lastInsertRowid } = statements.insert.run(
          row.messageId,
          row.type,
          row.at,
          row.data,
          row.content,
        );
        rows.add(row.messageId, Number(lastInsertRowid));
      }
    });
  }
}
