/**
 * `ferry journal stats|list|export` on the postgres journal: the outbox read without a write (no
 * migration, no claim), so it shows every row, whichever relay holds it.
 *
 * @internal
 */

import { JournalError } from '../journal/journal-error.js';
import type { PostgresJournalOptions } from '../journal/postgres-journal.js';
import type { JournalReader } from '../journal/reader.js';
import { OUTBOX_SCHEMA_VERSION, schemaVersion } from './migrations.js';
import { type ClaimedRow, rowColumns, rowEvents } from './outbox-rows.js';
import { outboxSchema } from './outbox-schema.js';
import { createPool } from './pg-driver.js';

const READ_CHUNK = 1_000;

/** Opens the outbox `options` names for reading. */
export async function postgresReader(
  options: Pick<PostgresJournalOptions, 'url' | 'pool' | 'schema'>,
): Promise<JournalReader> {
  const schema = outboxSchema(options.schema);
  const pool = options.pool ?? createPool(options.url ?? '', 1, () => undefined);
  const release = async () => {
    if (options.pool === undefined) await pool.end().catch(() => undefined);
  };
  let version: number;
  try {
    version = await schemaVersion(pool, schema);
  } catch (error) {
    await release();
    throw new JournalError(
      'JOURNAL_UNAVAILABLE',
      `cannot read the postgres journal: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (version > OUTBOX_SCHEMA_VERSION) {
    await release();
    throw new JournalError(
      'JOURNAL_TOO_NEW',
      `the outbox schema ${schema.name} is at version ${version}, newer than this ferry (${OUTBOX_SCHEMA_VERSION})`,
    );
  }
  const where = options.url === undefined ? 'a pool' : options.url.replace(/\/\/[^@/]*@/, '//***@');
  return {
    description: `postgres ${schema.name} at ${where}`,
    schemaVersion: version === 0 ? OUTBOX_SCHEMA_VERSION : version,
    async *events() {
      if (version === 0) return;
      let after = '0';
      while (true) {
        const result = await pool.query(
          `SELECT ${rowColumns('o')} FROM ${schema.outbox} o WHERE o.seq > $1 ORDER BY o.seq LIMIT ${READ_CHUNK}`,
          [after],
        );
        const rows = result.rows as ClaimedRow[];
        for (const row of rows) {
          for (const event of rowEvents(row)) yield { position: `row ${row.seq}`, event };
          after = row.seq;
        }
        if (rows.length < READ_CHUNK) return;
      }
    },
    totals: async () => {
      if (version === 0) return { confirmed: 0, deadLettered: 0 };
      const result = await pool.query(`SELECT outcome, count::text AS count FROM ${schema.totals}`);
      const count = (outcome: string) =>
        Number(result.rows.find((row) => row.outcome === outcome)?.count ?? 0);
      return { confirmed: count('confirmed'), deadLettered: count('dead-lettered') };
    },
    close: release,
  };
}
