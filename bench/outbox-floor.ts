/**
 * The floor relays of bench/outbox.ts: the least a correct outbox relay must do, with plain `pg` and
 * `amqplib` and none of ferry's producer, on ferry's own outbox table, so that ferry's relay is
 * measured against what any relay costs on the same machine and not only against amqplib, which
 * reads no rows. What a relay's throughput is capped at by PostgreSQL and RabbitMQ sharing the cores
 * shows up as the floors' own ratio to amqplib.
 *
 * - `floor-read` reads rows in `seq` order behind a cursor, 500 at a time, publishes each on one
 *   confirm channel (pipelined, waiting for `drain` when told to) with the row's properties, which
 *   for the bench's rows are amqplib's routed options (persistent, content type, message id), and
 *   deletes confirmed rows in batches. No claims: correct for one relay only, and only because the
 *   bench commits its rows in one transaction (a cursor skips a row whose transaction commits after
 *   one with a higher `seq`).
 * - `floor-claim` takes its rows with ferry's real claim (`claimRows`, under a lease of its own) and
 *   is otherwise the same, so the two differ by the cost of claiming rows instead of reading them.
 *   The lease outlasts any run, so it is never renewed, and deletes are not fenced by it (the same
 *   delete as `floor-read`'s): both are a claiming relay's duties that cost next to nothing.
 *
 * Both hold at most `DEFAULT_MAX_CLAIMED` rows read and not yet confirmed, in reads of at most
 * `CLAIM_CHUNK`, ferry's relay's defaults (src/postgres/claim-rows.ts). A floor checks itself: it
 * fails at once on a nack, a row published twice or a delete that did not delete its rows, and at
 * `stop` unless it published and deleted exactly the rows asked for and the outbox is empty.
 */
import { once } from 'node:events';
import amqplib, { type Options } from 'amqplib';
import pg from 'pg';
import { ClaimCursor } from '../src/postgres/claim-cursor.js';
import { CLAIM_CHUNK, claimRows, DEFAULT_MAX_CLAIMED } from '../src/postgres/claim-rows.js';
import { OutboxSchema } from '../src/postgres/outbox-schema.js';
import { takeLeaseSql } from '../src/postgres/relay-sql.js';

/** The floor relays, by the name their rows carry in the report. */
export const FLOORS = ['floor-read', 'floor-claim'] as const;
export type Floor = (typeof FLOORS)[number];

/** What bench/outbox.ts hands a floor child. */
export interface FloorJob {
  readonly kind: Floor;
  /** The round's database. */
  readonly url: string;
  /** Rows the bench commits: exactly these are to be published and deleted. */
  readonly messages: number;
}

/** `floor-claim`'s lease: longer than any run, so it needs no renewing. */
const LEASE_MS = 3_600_000;

/** A row as the floor publishes it. */
interface Row {
  readonly seq: string;
  readonly exchange: string;
  readonly routing_key: string;
  readonly properties: Options.Publish;
  readonly content: Buffer;
}

/** Takes up to `room` rows the floor has not had yet, oldest first. */
type RowSource = (room: number) => Promise<Row[]>;

/** A wake-up that is not lost when it comes before anyone waits for it. */
function signal() {
  let raised = false;
  let waiting: (() => void) | null = null;
  return {
    raise(): void {
      raised = true;
      waiting?.();
      waiting = null;
    },
    clear(): void {
      raised = false;
    },
    async wait(): Promise<void> {
      if (!raised) await new Promise<void>((resolve) => (waiting = resolve));
      raised = false;
    },
  };
}

/** `floor-read`'s rows: the next ones behind a cursor on `seq`. */
function readRows(pool: pg.Pool, schema: OutboxSchema): RowSource {
  let cursor = '0';
  // node-postgres hands a bigint over as text already; a cast here would make `ORDER BY seq` sort the
  // alias as text ('10000' before '2') and the cursor skip rows.
  const sql = `SELECT seq, exchange, routing_key, properties, content FROM ${schema.outbox}
WHERE seq > $1 ORDER BY seq LIMIT $2`;
  return async (room) => {
    const rows = (await pool.query<Row>(sql, [cursor, room])).rows;
    cursor = rows.at(-1)?.seq ?? cursor;
    return rows;
  };
}

/**
 * `floor-claim`'s rows: ferry's claim under a lease of the floor's own, each claim starting where
 * ferry's relay would start it (a claim after a full one at the cursor, see claim-cursor.ts).
 */
async function claimedRows(pool: pg.Pool, schema: OutboxSchema): Promise<RowSource> {
  const lease = await pool.query<{ epoch: string }>(takeLeaseSql(schema), ['floor-claim', LEASE_MS]);
  const epoch = lease.rows[0]?.epoch as string;
  const cursor = new ClaimCursor();
  let after = cursor.fromOldest();
  return async (room) => {
    const rows = await claimRows(pool, schema, epoch, room, after);
    after = rows.length === room ? cursor.after(rows) : cursor.fromOldest();
    return rows.map((row) => ({
      ...row,
      // ferry's claim sends the body as base64 text (half hex's size, see outbox-rows.ts).
      content: Buffer.from(row.content, 'base64'),
      properties: JSON.parse(row.properties) as Options.Publish,
    }));
  };
}

/** Ends the child loudly: a floor that is not honest must not produce a figure. */
function fail(job: FloorJob, problem: string): never {
  console.error(`${job.kind}: ${problem}`);
  process.exit(1);
}

/**
 * The floor child: connects, says `ready`, relays until `stop`, checks itself and reports its CPU
 * time from `ready` to `stop`.
 */
export async function floorChild(job: FloorJob, brokerUrl: string, cpu: () => number): Promise<void> {
  const schema = new OutboxSchema();
  // Reads and deletes on connections of their own, so a delete never waits behind a read.
  const pool = new pg.Pool({ connectionString: job.url, max: 3 });
  const listener = new pg.Client({ connectionString: job.url });
  await listener.connect();
  const notified = signal();
  listener.on('notification', () => notified.raise());
  await listener.query(`LISTEN "${schema.channel}"`);
  const take = job.kind === 'floor-read' ? readRows(pool, schema) : await claimedRows(pool, schema);
  const connection = await amqplib.connect(brokerUrl);
  const channel = await connection.createConfirmChannel();
  channel.on('error', (error: Error) => fail(job, `channel error: ${error.message}`));

  const published = new Set<string>();
  let held = 0;
  let confirmed = 0;
  let deleted = 0;
  let toDelete: string[] = [];
  let deleting: Promise<void> | null = null;
  const room = signal();
  const deleteSql = `DELETE FROM ${schema.outbox} WHERE seq = ANY($1::bigint[])`;
  const flushDeletes = (): void => {
    if (deleting !== null || toDelete.length === 0) return;
    const batch = toDelete;
    toDelete = [];
    deleting = pool.query(deleteSql, [batch]).then(
      (result) => {
        if (result.rowCount !== batch.length) fail(job, `deleted ${result.rowCount} of ${batch.length} rows`);
        deleted += batch.length;
        deleting = null;
        flushDeletes();
      },
      (error: Error) => fail(job, `delete failed: ${error.message}`),
    );
  };
  const confirm = (seq: string) => (error: unknown) => {
    if (error != null) fail(job, `row ${seq} was not confirmed: ${String(error)}`);
    confirmed += 1;
    held -= 1;
    toDelete.push(seq);
    flushDeletes();
    room.raise();
  };

  let stopping = false;
  const relay = async (): Promise<void> => {
    while (!stopping) {
      const free = Math.min(CLAIM_CHUNK, DEFAULT_MAX_CLAIMED - held);
      if (free <= 0) {
        await room.wait();
        continue;
      }
      // A notification from here on means rows this read may not see.
      notified.clear();
      const rows = await take(free);
      if (rows.length === 0) {
        await notified.wait();
        continue;
      }
      held += rows.length;
      for (const row of rows) {
        if (published.has(row.seq)) fail(job, `row ${row.seq} came twice`);
        published.add(row.seq);
        const { exchange, routing_key, content, properties } = row;
        if (!channel.publish(exchange, routing_key, content, properties, confirm(row.seq))) {
          await once(channel, 'drain');
        }
      }
    }
  };
  const relaying = relay().catch((error: Error) => fail(job, `relay failed: ${error.message}`));

  const atStart = cpu();
  process.send?.('ready');
  process.once('message', () => {
    const used = cpu() - atStart;
    stopping = true;
    notified.raise();
    room.raise();
    void (async () => {
      await relaying;
      while (deleting !== null) await deleting;
      const left = (await pool.query(`SELECT count(*)::int AS n FROM ${schema.outbox}`)).rows[0].n as number;
      const counts = `published ${published.size}, confirmed ${confirmed}, deleted ${deleted} of ${job.messages} rows; ${left} left in the outbox`;
      if (
        published.size !== job.messages ||
        confirmed !== job.messages ||
        deleted !== job.messages ||
        left !== 0
      ) {
        fail(job, counts);
      }
      await connection.close();
      await listener.end();
      await pool.end();
      process.send?.({ cpuMicros: used, confirmedAt: [] });
      // The IPC message goes out before the exit.
      setTimeout(() => process.exit(0), 100);
    })();
  });
}
