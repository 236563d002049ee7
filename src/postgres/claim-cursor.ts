/**
 * Where a relay's next claim starts its walk of the primary key.
 *
 * A claim takes the oldest claimable rows by walking the outbox in `seq` order, and it passes over
 * every row in its way: the rows live relays hold, and the index entries of rows deleted since the
 * last vacuum. While a relay drains a backlog, nearly all of those lie behind the rows it took last,
 * so each claim of such a run starts after the highest row the one before took, and its cost no
 * longer grows with the backlog (bench/claim-cost.ts, `backlog`).
 *
 * Rows can still turn up behind the cursor: a transaction that got its `seq` early and committed
 * late, rows a closing relay handed back, rows of an expired lease. So a walk starts from the oldest
 * row whenever the relay is not in a run (its claim is not one sent ahead of a full one), and after
 * {@link CURSOR_RUN} claims of a run: such a row waits that many claims at most.
 *
 * @internal
 */

/** The claims of one run that may start at the cursor before one walks from the oldest row again. */
export const CURSOR_RUN = 16;

/** `after` for a walk from the oldest row: `seq` starts at 1. */
const FROM_OLDEST = '0';

/** The cursor of one relay's claims. */
export class ClaimCursor {
  private run = 0;

  /** Where a claim that is not part of a run starts: from the oldest row, which begins a new run. */
  fromOldest(): string {
    this.run = 0;
    return FROM_OLDEST;
  }

  /**
   * Where the claim sent ahead of a full one starts: after the highest `seq` among `taken` (that
   * full claim's rows), or from the oldest row once the run has had {@link CURSOR_RUN} such claims.
   */
  after(taken: readonly { readonly seq: string }[]): string {
    if (this.run >= CURSOR_RUN) return this.fromOldest();
    this.run += 1;
    let highest = FROM_OLDEST;
    for (const row of taken) if (above(row.seq, highest)) highest = row.seq;
    return highest;
  }
}

/** Whether `seq` is above `other`, both `bigint`s as PostgreSQL writes them (no sign, no leading 0). */
function above(seq: string, other: string): boolean {
  return seq.length === other.length ? seq > other : seq.length > other.length;
}
