/**
 * The postgres journal: a relay for the transactional outbox (src/postgres/). Rows come from two
 * sides: applications `enqueue()` them in their own transactions, and this producer's own `publish()`
 * inserts the messages it accepts. Relays claim unclaimed rows under a lease (`claim()`, called by the
 * producer's claim loop), publish them with everything the producer does, and delete them once
 * confirmed or dead-lettered. A relay that stops renewing its lease (it died, or was cut off longer
 * than the lease) loses its rows to the others; a write under an expired lease is refused, and the
 * relay carries on under a new lease. Outcomes are at least once: a row is published again only when
 * the relay that held it lost its lease before deleting it.
 */
import { hostname } from 'node:os';
import type { OutboundMessage } from '../message/outbound-message.js';
import { ClaimCursor } from '../postgres/claim-cursor.js';
import { CLAIM_CHUNK, claimRows, DEFAULT_MAX_CLAIMED } from '../postgres/claim-rows.js';
import { migrate, OUTBOX_SCHEMA_VERSION, schemaVersion } from '../postgres/migrations.js';
import { OutboxListener } from '../postgres/outbox-listener.js';
import { acceptedColumns, type ClaimedRow, foldRows, storedEvent } from '../postgres/outbox-rows.js';
import { type OutboxSchema, outboxSchema } from '../postgres/outbox-schema.js';
import { createPool } from '../postgres/pg-driver.js';
import type { PgPool } from '../postgres/queryable.js';
import { pruneLeasesSql, releaseSql, renewLeaseSql, takeLeaseSql, writeSql } from '../postgres/relay-sql.js';
import { emitFerryWarning } from '../warnings.js';
import { type BatchOp, BufferedJournal } from './buffered-journal.js';
import type { JournalEvent, PendingMessage } from './journal.js';
import type { PostgresJournalOptions } from './journal-config.js';
import { JournalError } from './journal-error.js';

export type { PostgresJournalOptions } from './journal-config.js';

/** A journal and outbox relay on PostgreSQL, shared by any number of relays. */
export class PostgresJournal extends BufferedJournal {
  readonly kind = 'postgres';
  readonly durable = true;
  /** Between claims the loop only checks room; a claim itself waits for a notification. */
  readonly claimIntervalMs = 5;
  private readonly schema: OutboxSchema;
  /**
   * The journal write as a named statement: a relay writes after every batch of outcomes, and parsing
   * and planning the statement's text anew cost PostgreSQL 415 µs of CPU a write against 135 µs once
   * prepared (80 deletes a write, measured alone). Named per schema, since one connection may serve two.
   */
  private readonly writeStatement: { readonly name: string; readonly text: string };
  private readonly relayId: string;
  private readonly leaseMs: number;
  private pool: PgPool | null = null;
  private listener: OutboxListener | null = null;
  private epoch = '';
  private renewTimer: NodeJS.Timeout | null = null;
  private renewing = false;
  /** Deletes whose write failed, carried into the next write so their rows do not linger. */
  private undone: BatchOp[] = [];
  /** The `seq` of each claimed row this relay holds, by message id: its delete finds it by primary key. */
  private readonly seqs = new Map<string, string>();
  /** Where each claim's walk starts. */
  private readonly cursor = new ClaimCursor();
  /** A claim sent before the last one's rows were handed over (see {@link claim}). */
  private ahead: { epoch: string; room: number; rows: Promise<ClaimedRow[] | Error> } | null = null;

  constructor(private readonly options: PostgresJournalOptions) {
    super(options);
    if (options.url === undefined && options.pool === undefined) {
      throw new JournalError('JOURNAL_UNAVAILABLE', 'the postgres journal needs a url or a pool');
    }
    this.schema = outboxSchema(options.schema);
    this.writeStatement = { name: `ferry_write_${this.schema.name}`, text: writeSql(this.schema) };
    this.leaseMs = options.leaseMs ?? 15_000;
    this.relayId =
      options.relayId ?? `${hostname()}-${process.pid}-${Math.floor(Math.random() * 0xffffff).toString(16)}`;
  }

  /** The epoch of this relay's current lease: its fencing token. */
  get leaseEpoch(): string {
    return this.epoch;
  }

  protected async load(): Promise<readonly PendingMessage[]> {
    const pool = this.options.pool ?? createPool(this.options.url as string, 4, (error) => this.warn(error));
    try {
      if (this.options.migrate === false) await checkCurrent(pool, this.schema);
      else await migrate(pool, this.schema);
      this.epoch = await this.takeLease(pool);
    } catch (error) {
      if (this.options.pool === undefined) await pool.end().catch(() => undefined);
      throw error instanceof JournalError
        ? error
        : new JournalError(
            'JOURNAL_UNAVAILABLE',
            `cannot open the postgres journal: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
    }
    this.pool = pool;
    this.listener = new OutboxListener({ pool, channel: this.schema.channel, onError: (e) => this.warn(e) });
    await this.listener.start();
    this.renewTimer = setInterval(() => void this.renew(), Math.max(20, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
    // Rows come through claim(): this lease is new, so it owns none yet.
    return [];
  }

  /**
   * Claims rows nobody holds and rows of expired leases, as many as there is room for; when there are
   * none, waits for a notification (or `pollMs`) and looks once more.
   *
   * A claim that came back full means more rows are waiting: the next claim is sent at once, before
   * these rows are handed over, so PostgreSQL claims the next rows while this process publishes these
   * (claims are the relay's one serial step; measured during a 50,000-row burst on a loaded machine, a
   * 500-row claim took 17–40 ms and folding and publishing its rows another 5–15 ms, one after the
   * other). Such a claim starts its walk after the rows just taken (claim-cursor.ts).
   */
  async claim(): Promise<readonly PendingMessage[]> {
    const { pool, listener } = this;
    if (pool === null || listener === null) return [];
    const ahead = this.ahead;
    this.ahead = null;
    let rows: ClaimedRow[];
    let asked: number;
    if (ahead !== null && ahead.epoch === this.epoch) {
      const answer = await ahead.rows;
      if (answer instanceof Error) throw answer;
      rows = answer;
      asked = ahead.room;
    } else {
      // A claim sent ahead under a lease since lost left its rows under that lease: lapsed, they are
      // claimed again like any other relay's.
      asked = this.room();
      if (asked <= 0) return [];
      const after = this.cursor.fromOldest();
      listener.take();
      rows = await claimRows(pool, this.schema, this.epoch, asked, after);
      if (rows.length === 0) {
        await listener.wait(this.options.pollMs ?? 1_000);
        if (this.pool === null) return [];
        listener.take();
        rows = await claimRows(pool, this.schema, this.epoch, asked, after);
      }
    }
    const records = foldRows(rows, (error) => this.warn(error));
    for (const row of rows) this.seqs.set(row.message_id, row.seq);
    if (records.length < rows.length) {
      // A row that did not decode is not held, so no delete will ever come for it.
      const held = new Set(records.map((record) => record.message.messageId));
      for (const row of rows) if (!held.has(row.message_id)) this.seqs.delete(row.message_id);
    }
    this.state.adopt(records);
    if (rows.length === asked && this.pool !== null) this.claimAhead(pool, rows);
    return records;
  }

  /** The rows this relay may claim now: `maxClaimed` less what it holds, at most one chunk. */
  private room(): number {
    return Math.min(CLAIM_CHUNK, (this.options.maxClaimed ?? DEFAULT_MAX_CLAIMED) - this.state.size);
  }

  /**
   * Sends the next claim now, for the next {@link claim} to take; its failure is that call's. `taken`
   * are the rows of the full claim that came back just now.
   */
  private claimAhead(pool: PgPool, taken: readonly ClaimedRow[]): void {
    const room = this.room();
    if (room <= 0) return;
    const after = this.cursor.after(taken);
    this.listener?.take();
    const rows = claimRows(pool, this.schema, this.epoch, room, after).catch((error: unknown) =>
      error instanceof Error ? error : new Error(String(error)),
    );
    this.ahead = { epoch: this.epoch, room, rows };
  }

  protected async write(ops: readonly BatchOp[]): Promise<void> {
    const pool = this.pool;
    if (pool === null) throw new JournalError('JOURNAL_WRITE_FAILED', 'the postgres journal is closed');
    const batch = this.undone.length === 0 ? ops : [...this.undone, ...ops];
    const params = writeParams(this.epoch, batch, this.seqs);
    let live: number;
    try {
      const result = await pool.query({ ...this.writeStatement, values: params });
      live = Number(result.rows[0]?.live ?? 0);
    } catch (error) {
      this.undone = batch.filter((op) => op.op === 'delete');
      throw new JournalError(
        'JOURNAL_WRITE_FAILED',
        `postgres refused a journal write: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    this.undone = [];
    for (const op of batch) if (op.op === 'delete') this.seqs.delete(op.messageId);
    if (live === 0) {
      await this.rejoin(pool);
      throw new JournalError(
        'JOURNAL_LEASE_LOST',
        'this relay lease expired before the write: its rows may belong to another relay now; nothing was written',
      );
    }
  }

  protected async closeStore(opened: boolean): Promise<void> {
    if (this.renewTimer !== null) clearInterval(this.renewTimer);
    this.renewTimer = null;
    this.listener?.close();
    this.listener = null;
    const pool = this.pool;
    this.pool = null;
    // A claim sent ahead is let finish: once close resolves, no query of this relay runs on the pool (an
    // application's own may be ended next), and the release below hands that claim's rows back too.
    await this.ahead?.rows;
    this.ahead = null;
    if (pool === null || !opened) return;
    // What is still unfinished goes back unclaimed at once, for the other relays to take without
    // waiting for this lease to expire.
    await pool.query(releaseSql(this.schema), [this.epoch, this.schema.channel]).catch((e) => this.warn(e));
    if (this.options.pool === undefined) await pool.end().catch(() => undefined);
  }

  private async takeLease(pool: PgPool): Promise<string> {
    const result = await pool.query(takeLeaseSql(this.schema), [this.relayId, this.leaseMs]);
    return String(result.rows[0]?.epoch);
  }

  private async renew(): Promise<void> {
    const pool = this.pool;
    if (pool === null || this.renewing) return;
    this.renewing = true;
    try {
      const renewed = await pool.query(renewLeaseSql(this.schema), [this.epoch, this.leaseMs]);
      if (renewed.rows.length === 0) {
        await this.rejoin(pool);
      } else {
        await pool.query(pruneLeasesSql(this.schema));
        // Deletes that failed (PostgreSQL was away) are written now, even if no new event comes.
        if (this.undone.length > 0) await this.write([]);
      }
    } catch (error) {
      this.warn(error);
    } finally {
      this.renewing = false;
    }
  }

  /**
   * The lease expired: whatever this relay held may be another's now, so it stops tracking it and
   * takes a new lease. Messages it still holds in memory may be published again by it and by the new
   * holder: duplicates, never losses.
   */
  private async rejoin(pool: PgPool): Promise<void> {
    this.state.forget(this.state.pending().map((record) => record.message.messageId));
    this.seqs.clear();
    this.undone = [];
    this.epoch = await this.takeLease(pool);
  }

  private warn(error: unknown): void {
    if (this.options.onError === undefined)
      emitFerryWarning('FerryJournalWarning', 'the postgres journal', error);
    else this.options.onError(error);
  }
}

/** Refuses a schema that is missing, older or newer than this ferry's, without changing it. */
async function checkCurrent(pool: PgPool, schema: OutboxSchema): Promise<void> {
  const version = await schemaVersion(pool, schema);
  if (version === OUTBOX_SCHEMA_VERSION) return;
  throw new JournalError(
    version > OUTBOX_SCHEMA_VERSION ? 'JOURNAL_TOO_NEW' : 'JOURNAL_UNAVAILABLE',
    `the outbox schema ${schema.name} is at version ${version}; this ferry needs ${OUTBOX_SCHEMA_VERSION} (run ferry migrate)`,
  );
}

/** The parameters of {@link writeSql} for one batch; `seqs` has the claimed rows' `seq`s by id. */
function writeParams(epoch: string, ops: readonly BatchOp[], seqs: ReadonlyMap<string, string>): unknown[] {
  const accepted = new Map<string, OutboundMessage>();
  const later = new Map<string, ReturnType<typeof storedEvent>[]>();
  const confirmed: string[] = [];
  const confirmedSeqs: string[] = [];
  const deadLettered: string[] = [];
  for (const op of ops) {
    if (op.op === 'delete') {
      const seq = op.outcome === 'confirmed' ? seqs.get(op.messageId) : undefined;
      if (seq !== undefined) confirmedSeqs.push(seq);
      else (op.outcome === 'confirmed' ? confirmed : deadLettered).push(op.messageId);
    } else if (op.event.type === 'accepted') accepted.set(op.event.message.messageId, op.event.message);
    else appendTo(later, op.event);
  }
  const c = acceptedColumns([...accepted.values()]);
  // A message accepted in this batch is written with its later events; the others get them appended.
  const firstEvents = c.ids.map((id) => {
    const events = later.get(id) ?? [];
    later.delete(id);
    return JSON.stringify(events);
  });
  const appendIds = [...later.keys()];
  const appendEvents = appendIds.map((id) => JSON.stringify(later.get(id)));
  return [
    epoch,
    c.ids,
    c.exchanges,
    c.routingKeys,
    c.properties,
    c.contents,
    c.acceptedAt,
    firstEvents,
    appendIds,
    appendEvents,
    confirmed,
    deadLettered,
    confirmedSeqs,
  ];
}

function appendTo(later: Map<string, ReturnType<typeof storedEvent>[]>, event: JournalEvent): void {
  const id = event.type === 'accepted' ? event.message.messageId : event.messageId;
  const list = later.get(id);
  if (list === undefined) later.set(id, [storedEvent(event)]);
  else list.push(storedEvent(event));
}
