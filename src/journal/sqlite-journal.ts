/**
 * The embedded journal: one sqlite file (better-sqlite3, WAL mode), group commit, compaction by
 * deleting a message's rows when it finishes.
 *
 * Durability: `process` (the default) uses `synchronous = NORMAL`: a commit survives a crash of this
 * process, and the last commits before a power loss or kernel crash may be rolled back (never
 * corrupted). `power` uses `synchronous = FULL`: every commit is fsynced. Group commit pays that once
 * per batch, not once per message.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { BatchingOptions, BatchOp } from './buffered-journal.js';
import { BufferedJournal } from './buffered-journal.js';
import { encodeEvent } from './codec.js';
import { foldJournal } from './fold.js';
import type { PendingMessage } from './journal.js';
import { JournalError } from './journal-error.js';
import { checkJournal, openDatabase, prepareJournal, readEvents, sqliteErrors } from './sqlite-store.js';

/** What a commit survives: a crash of the process, or also a power loss (an fsync per batch). */
export type Durability = 'process' | 'power';

/** Options of {@link SqliteJournal}. */
export interface SqliteJournalOptions extends BatchingOptions {
  /** The journal file; created when missing. */
  readonly path: string;
  readonly durability?: Durability;
}

interface Statements {
  readonly insert: Statement<[string, string, number, string, Buffer | null]>;
  readonly remove: Statement<[string]>;
  readonly total: Statement<[string, number]>;
}

/** A journal in a sqlite file. */
export class SqliteJournal extends BufferedJournal {
  readonly kind = 'sqlite';
  readonly durable = true;
  private db: Database | null = null;
  private writeBatch: ((ops: readonly BatchOp[]) => void) | null = null;

  constructor(private readonly options: SqliteJournalOptions) {
    super(options);
  }

  /** The journal file. */
  get path(): string {
    return this.options.path;
  }

  protected async load(): Promise<readonly PendingMessage[]> {
    const { path } = this.options;
    const db = await openDatabase(path, false);
    try {
      const fresh = checkJournal(db, path);
      const folded = foldJournal(fresh ? [] : [...readEvents(db, path)].map(({ event }) => event));
      prepareJournal(db, path, this.options.durability === 'power' ? 'FULL' : 'NORMAL');
      this.prepareWrites(db);
      this.db = db;
      return folded.pending();
    } catch (error) {
      db.close();
      throw error;
    }
  }

  protected write(ops: readonly BatchOp[]): void {
    const write = this.writeBatch;
    if (write === null)
      throw new JournalError('JOURNAL_WRITE_FAILED', `the journal ${this.options.path} is closed`);
    sqliteErrors(this.options.path, () => write(ops));
  }

  protected async closeStore(): Promise<void> {
    const db = this.db;
    this.db = null;
    this.writeBatch = null;
    if (db === null) return;
    // Folds the WAL back into the file so a closed journal is one file again.
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }

  private prepareWrites(db: Database): void {
    const statements: Statements = {
      insert: db.prepare('INSERT INTO events (message_id, type, at, data, content) VALUES (?, ?, ?, ?, ?)'),
      remove: db.prepare('DELETE FROM events WHERE message_id = ?'),
      total: db.prepare(
        'INSERT INTO totals (outcome, count) VALUES (?, ?) ON CONFLICT (outcome) DO UPDATE SET count = count + excluded.count',
      ),
    };
    this.writeBatch = db.transaction((ops: readonly BatchOp[]) => {
      let confirmed = 0;
      let deadLettered = 0;
      for (const op of ops) {
        if (op.op === 'insert') {
          const row = encodeEvent(op.event);
          statements.insert.run(row.messageId, row.type, row.at, row.data, row.content);
        } else {
          statements.remove.run(op.messageId);
          if (op.outcome === 'confirmed') confirmed += 1;
          else deadLettered += 1;
        }
      }
      if (confirmed > 0) statements.total.run('confirmed', confirmed);
      if (deadLettered > 0) statements.total.run('dead-lettered', deadLettered);
    });
  }
}
