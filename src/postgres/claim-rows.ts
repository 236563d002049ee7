/**
 * One claim: the schema's `claim` function (migrations 3 and 4), called as a named prepared statement.
 *
 * The claim's plan must not depend on the outbox's statistics. An outbox is a queue: its row count
 * swings from none to a burst of many between two `ANALYZE`s, and a freshly made one has no statistics
 * at all. Planned from such numbers, "the oldest claimable rows" became a read of every unclaimed row
 * and a sort (measured: 55 of a claim's 77 ms at 20,000 rows, growing with the backlog), where walking
 * the primary key in `seq` order reads only the rows it takes and those relays hold. The function
 * carries the planner settings that leave that walk as the plan (`SET` clauses: nothing leaks into
 * the pool's other uses), so a claim is one statement in one round trip: claims are the relay's one
 * serial step, and on a loaded machine each round trip is a wake-up of PostgreSQL and of the relay.
 *
 * Prepared, the call is parsed once per connection and the function keeps one plan for every call,
 * which at a steady rate, where a relay claims a row or two at a time, was most of what a claim cost
 * PostgreSQL (`npx tsx bench/claim-cost.ts`).
 *
 * @internal
 */
import type { ClaimedRow } from './outbox-rows.js';
import type { OutboxSchema } from './outbox-schema.js';
import type { NamedStatement, PgPool } from './queryable.js';
import { claimSql } from './relay-sql.js';

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

/** The claim as the named statement each connection keeps: see {@link claimRows}. */
function claimStatement(schema: OutboxSchema, epoch: string, room: number, after: string): NamedStatement {
  return { name: `ferry_claim_${schema.name}`, text: claimSql(schema), values: [epoch, room, after] };
}

/**
 * Claims up to `room` rows for lease `epoch` (see {@link claimSql}), walking from the row after `after`
 * (where claim-cursor.ts says); the claim commits on its own.
 */
export async function claimRows(
  pool: PgPool,
  schema: OutboxSchema,
  epoch: string,
  room: number,
  after: string,
): Promise<ClaimedRow[]> {
  const answer = await pool.query(claimStatement(schema, epoch, room, after));
  return answer.rows as ClaimedRow[];
}
