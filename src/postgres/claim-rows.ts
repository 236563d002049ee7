/**
 * One claim, run so that its plan does not depend on the outbox's statistics. An outbox is a queue:
 * its row count swings from none to a burst of many between two `ANALYZE`s, and a freshly made one has
 * no statistics at all. Planned from such numbers, "the oldest claimable rows" became a read of every
 * unclaimed row and a sort (measured: 55 of a claim's 77 ms at 20,000 rows, growing with the backlog),
 * where walking the primary key in `seq` order reads only the rows it takes and those relays hold. The
 * claim therefore runs in a short transaction of its own with sorting and bitmap scans off
 * (`SET LOCAL`: nothing leaks into the pool's other uses), which leaves that walk as the plan.
 *
 * @internal
 */
import type { ClaimedRow } from './outbox-rows.js';
import type { OutboxSchema } from './outbox-schema.js';
import type { PgPool } from './queryable.js';
import { claimSql } from './relay-sql.js';

const PLAN_BY_INDEX = 'BEGIN; SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off';

/** Claims up to `room` rows for lease `epoch` (see {@link claimSql}) and commits the claim. */
export async function claimRows(
  pool: PgPool,
  schema: OutboxSchema,
  epoch: string,
  room: number,
): Promise<ClaimedRow[]> {
  const client = await pool.connect();
  // A connection that drops between two statements (PostgreSQL restarting) reports it as an event,
  // which would end the process unheard; the next statement fails with it anyway.
  const ignore = () => undefined;
  client.on('error', ignore);
  try {
    await client.query(PLAN_BY_INDEX);
    const result = await client.query(claimSql(schema), [epoch, room]);
    await client.query('COMMIT');
    client.off('error', ignore);
    client.release();
    return result.rows as ClaimedRow[];
  } catch (error) {
    // The connection may be broken or inside the failed transaction: it is not handed back as it is.
    client.off('error', ignore);
    client.release(true);
    throw error;
  }
}
