/**
 * One owner per sqlite journal file. Two processes writing one journal would each replay and send the
 * other's live messages, so the writer holds a lock for as long as the journal is open:
 *
 * - `<journal>-lock` is a small sqlite file held in `EXCLUSIVE` locking mode. The lock is sqlite's
 *   own (POSIX advisory locks), so the operating system releases it when the holder dies, however it
 *   dies: a dead holder's journal is taken over by the next opener with nothing to clean up, and two
 *   openers racing for it cannot both win. It also conflicts between connections of one process.
 * - `<journal>-owner` says who holds it (pid, host, since when), for the refusal's message. It is only
 *   read after the lock was refused, and written only by the lock's holder.
 *
 * Readers (`ferry journal`, the checkpoint worker) open the journal itself and never take this lock.
 *
 * @internal
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Database } from 'better-sqlite3';
import { JournalError } from './journal-error.js';

/** Who holds a journal. */
export interface JournalOwner {
  readonly pid: number;
  readonly host: string;
  /** ISO 8601. */
  readonly since: string;
}

function ownerPath(path: string): string {
  return `${path}-owner`;
}

function readOwner(path: string): JournalOwner | null {
  try {
    const owner = JSON.parse(readFileSync(ownerPath(path), 'utf8')) as Partial<JournalOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' && typeof owner.since === 'string'
      ? { pid: owner.pid, host: owner.host, since: owner.since }
      : null;
  } catch {
    return null;
  }
}

function describe(owner: JournalOwner | null): string {
  return owner === null
    ? 'another process (its owner file is missing)'
    : `pid ${owner.pid} on ${owner.host} since ${owner.since}`;
}

/**
 * The lock of one journal file, held from {@link acquireJournalLock} until {@link JournalLock.release}.
 *
 * @internal
 */
export interface JournalLock {
  readonly owner: JournalOwner;
  /** Gives the journal up: the owner file is removed and the lock released. */
  release(): void;
}

/**
 * Takes the lock of the journal at `path`, or refuses.
 *
 * @throws JournalError `JOURNAL_LOCKED` naming the holder, or `JOURNAL_UNAVAILABLE` when the lock file
 *   cannot be created (for example a read-only directory).
 */
export async function acquireJournalLock(path: string): Promise<JournalLock> {
  const { default: Sqlite } = await import('better-sqlite3');
  let db: Database;
  try {
    db = new Sqlite(`${path}-lock`, { timeout: 0 });
  } catch (error) {
    throw new JournalError(
      'JOURNAL_UNAVAILABLE',
      `cannot open the journal ${path}: its lock file ${path}-lock: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // In EXCLUSIVE mode the lock of a write transaction is kept after its commit, until the close.
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (error) {
    db.close();
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') {
      throw new JournalError(
        'JOURNAL_LOCKED',
        `the journal ${path} is in use by ${describe(readOwner(path))}: one process owns a journal file; stop it, or give this one a journal of its own`,
      );
    }
    throw new JournalError(
      'JOURNAL_UNAVAILABLE',
      `cannot lock the journal ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const owner: JournalOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  try {
    // Written aside and renamed, so a refused opener never reads half a file.
    const temporary = `${ownerPath(path)}.${process.pid}`;
    writeFileSync(temporary, `${JSON.stringify(owner)}\n`);
    renameSync(temporary, ownerPath(path));
  } catch (error) {
    db.close();
    throw new JournalError(
      'JOURNAL_UNAVAILABLE',
      `cannot open the journal ${path}: writing ${ownerPath(path)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return {
    owner,
    release: () => {
      // Removed before the lock goes, so the file never names an owner that does not hold it.
      rmSync(ownerPath(path), { force: true });
      db.close();
    },
  };
}
