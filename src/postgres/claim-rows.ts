/**
 * One claim, run so that its plan does not depend on the outbox's statistics. An outbox is a queue:
 * its row count swings from none to a burst of many between two `ANALYZE`s, and a freshly made one has
 * no statistics at all. Planned from such numbers, "the oldest claimable rows" became a read of every
 * unclaimed row and a sort (measured: 55 of a claim's 77 ms at 20,000 rows, growing with the backlog),
 * where walking the primary key in `seq` order reads only the rows it takes and those relays hold. The
 * claim therefore runs in a short transaction of its own with sorting and bitmap scans off
 * (`SET LOCAL`: nothing leaks into the pool's other uses), which leaves that walk as the plan.
 *
 * That transaction is sent as one simple-protocol message (`BEGIN; SET LOCAL …; claim; COMMIT`): one
 * round trip instead of three. Claims are the relay's one serial step, and on a loaded machine each
 * round trip is a wake-up of PostgreSQL and of the relay (measured during a 50,000-row burst: the
 * `BEGIN` and `COMMIT` round trips took 4 and 8–10 ms of a 40 ms claim, median). The simple protocol
 * takes no parameters, so the two values are written into the text; both are integers this module
 * checks, never text from outside.
 *
 * @internal
 */
import type { ClaimedRow } from './outbox-rows.js';
import type { OutboxSchema } from './outbox-schema.js';
import type { PgPool, QueryRows } from './queryable.js';
import { claimSql } from './relay-sql.js';

/** One statement's answer in a multi-statement query. */
type StatementRows = QueryRows & { readonly command?: string };

/** The most rows one claim takes. */
export const CLAIM_CHUNK = 500;

/**
 * The most unfinished messages a relay holds unless its `maxClaimed` option says otherwise.
 *
 * A row stays held from its claim until its confirm, and a relay claims no more while it holds this
 * many, so the rows it holds when it sends a claim must keep the broker busy until the claim comes
 * back (7–25 ms, p10–p90, measured during a 50,000-row burst), or the relay runs dry in between: at
 * 16,000 msg/s, 500 rows last 31 ms. Measured with both bounds in every round of one run
 * (`npx tsx bench/outbox.ts --rounds 5 --variants 'mc1000={"maxClaimed":1000};mc2000=…'`), one relay
 * ran at 0.71× amqplib routed at 1,000 (median of five rounds) and at 0.80× and 0.83× at 2,000, ahead
 * of 1,000 in nine of the ten pairs. More gained nothing clear (0.82× at 3,000 and 5,000) and costs
 * PostgreSQL, since every claim walks past the rows live relays hold: with three relays at 5,000 each,
 * its CPU per message went from 19–21 to 25 µs.
 */
export const DEFAULT_MAX_CLAIMED = 2_000;

const PLAN_BY_INDEX = 'SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off';

const DIGITS = /^[0-9]{1,19}$/;

/** The claim transaction for lease `epoch` and up to `room` rows, as one text. */
export function claimTransaction(schema: OutboxSchema, epoch: string, room: number): string {
  if (!DIGITS.test(epoch) || !Number.isSafeInteger(room) || room <= 0) {
    throw new RangeError(`a claim needs a lease epoch and a positive room (got ${epoch}, ${room})`);
  }
  const claim = claimSql(schema).replace(/\$1\b/g, epoch).replace(/\$2\b/g, String(room));
  return `BEGIN; ${PLAN_BY_INDEX}; ${claim}; COMMIT`;
}

/**
 * The claim's rows in a multi-statement answer: an array with one result per statement (the
 * `Queryable` port types the single-statement answer only, so the array is checked, not assumed).
 */
function claimedOf(answer: unknown): ClaimedRow[] {
  if (!Array.isArray(answer)) throw new TypeError('a claim transaction answered with one result, not five');
  const claim = (answer as StatementRows[]).find((result) => result.command === 'UPDATE');
  return (claim?.rows ?? []) as ClaimedRow[];
}

/** Claims up to `room` rows for lease `epoch` (see {@link claimSql}) and commits the claim. */
export async function claimRows(
  pool: PgPool,
  schema: OutboxSchema,
  epoch: string,
  room: number,
): Promise<ClaimedRow[]> {
  const client = await pool.connect();
  // A connection that drops mid-claim (PostgreSQL restarting) reports it as an event, which would end
  // the process unheard; the query fails with it anyway.
  const ignore = () => undefined;
  client.on('error', ignore);
  try {
    // Without parameters node-postgres sends the text as one simple query and answers with one result
    // per statement: BEGIN, the two SETs, the claim, COMMIT.
    const answer: unknown = await client.query(claimTransaction(schema, epoch, room));
    client.off('error', ignore);
    client.release();
    return claimedOf(answer);
  } catch (error) {
    // The connection may be broken or inside the failed transaction: it is not handed back as it is.
    client.off('error', ignore);
    client.release(true);
    throw error;
  }
}
