/**
 * Where each message's rows are in a sqlite journal's `events` table, kept in memory so that a
 * finished message's rows are deleted by primary key (`seq`, the rowid) instead of through an index on
 * `message_id` that every insert and delete would also have to update.
 *
 * It changes inside the write transaction, so it is exact only while that transaction commits: the
 * journal drops it when a write fails and reads it again from the file (see {@link MessageRows.read}).
 *
 * @internal
 */
import type { Database } from 'better-sqlite3';

/** The seqs of each message's rows. */
export class MessageRows {
  /** One number for the usual message with a single row; an array once it has more. */
  private readonly seqs = new Map<string, number | number[]>();

  /** Reads every row's seq and message id; inside a transaction, what that transaction sees. */
  static read(db: Database): MessageRows {
    const rows = new MessageRows();
    const select = db.prepare('SELECT seq, message_id FROM events').raw();
    for (const [seq, messageId] of select.iterate() as IterableIterator<[number, string]>) {
      rows.add(messageId, seq);
    }
    return rows;
  }

  /** Records a row of `messageId`. */
  add(messageId: string, seq: number): void {
    const known = this.seqs.get(messageId);
    if (known === undefined) this.seqs.set(messageId, seq);
    else if (typeof known === 'number') this.seqs.set(messageId, [known, seq]);
    else known.push(seq);
  }

  /** Appends the seqs of `messageId`'s rows to `into` and forgets them: they are being deleted. */
  take(messageId: string, into: number[]): void {
    const known = this.seqs.get(messageId);
    if (known === undefined) return;
    this.seqs.delete(messageId);
    if (typeof known === 'number') into.push(known);
    else into.push(...known);
  }
}

/**
 * Splits seqs into runs of consecutive integers, as `[first, last]` pairs, so that a batch of messages
 * accepted together and finished together is deleted by one range instead of a statement per row.
 * Sorts `seqs` in place.
 */
export function seqRanges(seqs: number[]): [number, number][] {
  seqs.sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const seq of seqs) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && seq === last[1] + 1) last[1] = seq;
    else ranges.push([seq, seq]);
  }
  return ranges;
}
