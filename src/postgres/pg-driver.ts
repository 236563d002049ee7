/**
 * node-postgres, loaded on first use: only the relay and `ferry migrate` open connections of their own
 * (`enqueue` writes through the caller's), so a ferry that never uses PostgreSQL never loads it, and a
 * ferry installed without it fails with an error naming the package instead of at import.
 *
 * @internal
 */
import { createRequire } from 'node:module';
import { JournalError } from '../journal/journal-error.js';
import type { PgPool } from './queryable.js';

const load = createRequire(import.meta.url);

/** The package and version range the postgres journal is written against. */
export const PG_PACKAGE = 'pg@8';

/**
 * A pool on `url`, with an error handler: node-postgres emits `error` on the pool when an idle
 * connection dies (PostgreSQL restarted), and an unhandled `error` event would end the process.
 *
 * @throws JournalError `JOURNAL_UNAVAILABLE` naming the package when `pg` is not installed.
 */
export function createPool(url: string, max: number, onError: (error: Error) => void): PgPool {
  let pg: typeof import('pg');
  try {
    pg = load('pg') as typeof import('pg');
  } catch (error) {
    throw new JournalError(
      'JOURNAL_UNAVAILABLE',
      `the postgres journal needs the 'pg' package: npm install ${PG_PACKAGE}`,
      { cause: error },
    );
  }
  const pool = new pg.Pool({ connectionString: url, max, application_name: 'ferry' });
  pool.on('error', onError);
  return pool;
}
