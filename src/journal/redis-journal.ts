/**
 * The shared journal: Redis Streams, for several ferry instances sharing retry state (layout and
 * scripts in redis-keys.ts). Each instance owns the messages it accepted under a lease it renews;
 * when an instance stops renewing (it died, stalled or was cut off), another claims its unfinished
 * messages after the lease lapsed and finishes them. A commit is durable once Redis has it: Redis's
 * own persistence (AOF) decides whether that survives a Redis restart.
 *
 * What holds:
 * - Fencing. A lease carries a token, the epoch of that ownership; every write checks it in the same
 *   script that writes. A write under a lapsed or claimed lease changes nothing, so a claimed owned set
 *   is never re-created behind its claimer.
 * - No message is stranded by a lost lease. The instance that finds its lease lost stops writing until
 *   it owns again: it takes its own name back when nobody claimed it, or a new name when someone did,
 *   and registers there every message it still holds that the store does not have under that name.
 *   It keeps publishing them, so a message both it and its claimer hold is published by both: a lost
 *   lease makes duplicates of what the instance held when it lost it, never losses.
 * - A claim reads first and moves only what it read and folded: ids whose entries do not decode go to
 *   the `unreadable` set and are reported, the others are claimed whatever one bad entry says.
 * - An instance never claims its own former names nor hands over a message it already holds.
 * - An instance leaves the registry at close only when the store says it owns nothing.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { emitFerryWarning } from '../warnings.js';
import type { BatchOp } from './buffered-journal.js';
import { BufferedJournal } from './buffered-journal.js';
import { eventMessageId, recordEvents } from './fold.js';
import type { PendingMessage } from './journal.js';
import type { RedisJournalOptions } from './journal-config.js';
import { JournalError } from './journal-error.js';
import {
  CLAIM_SCRIPT,
  JOIN_SCRIPT,
  LEAVE_SCRIPT,
  RENEW_SCRIPT,
  RedisKeys,
  WRITE_SCRIPT,
} from './redis-keys.js';
import { checkSchema, connectRedis, foldOwned, type OwnedFold, writeArgs } from './redis-store.js';

export type { RedisJournalOptions } from './journal-config.js';

/** Events per script when held messages are registered under a new ownership. */
const REGISTER_CHUNK = 2_000;

/** How many times a batch refused for a stale lease is tried again under a new ownership. */
const FENCED_WRITE_TRIES = 3;

/** A journal in Redis, shared by several instances. */
export class RedisJournal extends BufferedJournal {
  readonly kind = 'redis';
  readonly durable = true;
  readonly claimIntervalMs: number;
  private readonly keys: RedisKeys;
  private readonly leaseMs: number;
  private readonly baseId: string;
  private instance: string;
  /** Names this process owned before: never claimed by it (what they held, it holds). */
  private readonly formerNames = new Set<string>();
  private token = '';
  private rejoins = 0;
  /** The lease was found lost: no write until a name is owned again. */
  private fenced = false;
  /** What this instance holds is registered under its current name. */
  private registered = true;
  private owning: Promise<void> | null = null;
  private redis: Redis | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  /** Undecodable stream entries already reported. */
  private readonly reported = new Set<string>();
  /** Stream entry ids of each held message's events, for compaction. */
  private entries = new Map<string, string[]>();

  constructor(private readonly options: RedisJournalOptions) {
    super(options);
    this.keys = new RedisKeys(options.keyPrefix ?? 'ferry');
    this.leaseMs = options.leaseMs ?? 15_000;
    this.claimIntervalMs = Math.max(50, Math.floor(this.leaseMs / 3));
    this.baseId =
      options.instanceId ??
      `${hostname()}-${process.pid}-${Math.floor(Math.random() * 0xffffff).toString(16)}`;
    this.instance = this.baseId;
  }

  /** The name this instance owns messages under. */
  get instanceId(): string {
    return this.instance;
  }

  protected async load(): Promise<readonly PendingMessage[]> {
    const redis = await connectRedis(this.options.url);
    try {
      await checkSchema(redis, this.keys);
      this.token = newToken(this.instance);
      await redis
        .multi()
        .set(this.keys.lease(this.instance), this.token, 'PX', this.leaseMs)
        .sadd(this.keys.instances, this.instance)
        .exec();
      const owned = this.keys.owned(this.instance);
      const fold = await foldOwned(redis, this.keys, new Set(await redis.smembers(owned)));
      this.report(fold, `opening ${owned}`);
      if (fold.unreadable.length > 0 || fold.gone.length > 0) {
        const multi = redis.multi();
        for (const id of fold.unreadable) multi.smove(owned, this.keys.unreadable, id);
        if (fold.gone.length > 0) multi.srem(owned, ...fold.gone);
        await multi.exec();
      }
      this.entries = fold.entries;
      this.redis = redis;
      this.renewTimer = setInterval(() => this.renew(), Math.max(20, Math.floor(this.leaseMs / 3)));
      this.renewTimer.unref();
      return fold.records;
    } catch (error) {
      redis.disconnect();
      throw error;
    }
  }

  /** Claims the messages of every other instance whose lease lapsed, and returns those it did not hold. */
  async claim(): Promise<readonly PendingMessage[]> {
    const redis = this.redis;
    if (redis === null) return [];
    if (this.fenced || !this.registered) await this.own(redis);
    const claimed: PendingMessage[] = [];
    for (const other of await redis.smembers(this.keys.instances)) {
      if (other === this.instance || this.formerNames.has(other)) continue;
      if ((await redis.exists(this.keys.lease(other))) === 1) continue;
      claimed.push(...(await this.claimFrom(redis, other)));
    }
    this.state.adopt(claimed);
    return claimed;
  }

  protected async write(ops: readonly BatchOp[]): Promise<void> {
    const redis = this.redis;
    if (redis === null) throw new JournalError('JOURNAL_WRITE_FAILED', 'the redis journal is closed');
    for (let tries = 0; tries < FENCED_WRITE_TRIES; tries += 1) {
      if (this.fenced || !this.registered) await this.own(redis);
      const added = await this.writeFenced(redis, writeArgs(ops, this.entries));
      if (added === null) continue;
      let next = 0;
      for (const op of ops) {
        if (op.op === 'delete') {
          this.entries.delete(op.messageId);
          continue;
        }
        this.remember(eventMessageId(op.event), added[next] as string);
        next += 1;
      }
      return;
    }
    throw new JournalError(
      'JOURNAL_LEASE_LOST',
      `the redis journal lost ${this.instance}'s lease ${FENCED_WRITE_TRIES} times during one write`,
    );
  }

  protected async closeStore(opened: boolean): Promise<void> {
    if (this.renewTimer !== null) clearInterval(this.renewTimer);
    this.renewTimer = null;
    const redis = this.redis;
    this.redis = null;
    if (redis === null || !opened) return;
    // With nothing left to own in the store, leave at once; otherwise the lease lapses and another
    // instance claims what is left.
    await redis
      .eval(
        LEAVE_SCRIPT,
        3,
        this.keys.lease(this.instance),
        this.keys.owned(this.instance),
        this.keys.instances,
        this.token,
        this.instance,
      )
      .catch(() => undefined);
    await redis.quit().catch(() => redis.disconnect());
  }

  /**
   * Runs {@link WRITE_SCRIPT}: the new entry ids, or `null` when the lease's token is stale (and the
   * instance is then fenced, unless it owns again already).
   */
  private async writeFenced(redis: Redis, args: (string | Buffer)[]): Promise<string[] | null> {
    const { token } = this;
    const result = (await redis.eval(
      WRITE_SCRIPT,
      4,
      this.keys.lease(this.instance),
      this.keys.owned(this.instance),
      this.keys.events,
      this.keys.totals,
      token,
      ...args,
    )) as string[] | null;
    if (result === null) this.lost(token);
    return result;
  }

  /** The lease that carried `token` is lost: fenced, unless a later ownership replaced it already. */
  private lost(token: string): void {
    if (this.token === token) this.fenced = true;
  }

  private async claimFrom(redis: Redis, other: string): Promise<PendingMessage[]> {
    const ids = new Set(await redis.smembers(this.keys.owned(other)));
    const fold = await foldOwned(redis, this.keys, ids);
    this.report(fold, `claiming ${this.keys.owned(other)}`);
    // Held ids move as well (they are this instance's already), but are not handed over again.
    const take = fold.records.map((record) => record.message.messageId);
    for (const id of ids) if (this.state.has(id) && !fold.entries.has(id)) take.push(id);
    const unreadable = fold.unreadable.filter((id) => !this.state.has(id));
    const gone = fold.gone.filter((id) => !this.state.has(id));
    const { token } = this;
    const result = (await redis.eval(
      CLAIM_SCRIPT,
      6,
      this.keys.lease(this.instance),
      this.keys.owned(this.instance),
      this.keys.lease(other),
      this.keys.owned(other),
      this.keys.instances,
      this.keys.unreadable,
      token,
      other,
      `claimed-by:${this.instance}`,
      String(this.leaseMs * 10),
      String(take.length),
      ...take,
      String(unreadable.length),
      ...unreadable,
      ...gone,
    )) as string[];
    if (result[0] === 'fenced') this.lost(token);
    if (result[0] !== 'ok') return [];
    const moved = new Set(result.slice(1));
    const claimed: PendingMessage[] = [];
    for (const record of fold.records) {
      const id = record.message.messageId;
      if (!moved.has(id) || this.state.has(id)) continue;
      claimed.push(record);
      for (const entry of fold.entries.get(id) ?? []) this.remember(id, entry);
    }
    return claimed;
  }

  private renew(): void {
    const redis = this.redis;
    if (redis === null) return;
    if (this.fenced) {
      this.own(redis).catch(() => undefined);
      return;
    }
    const { token } = this;
    redis
      .eval(RENEW_SCRIPT, 1, this.keys.lease(this.instance), token, String(this.leaseMs))
      .then(async (renewed) => {
        if (renewed === 1 || this.redis !== redis) return;
        this.lost(token);
        if (this.fenced) await this.own(redis);
      })
      .catch(() => undefined);
  }

  /** Owns a name again after the lease was found lost, and registers what this instance holds there. */
  private own(redis: Redis): Promise<void> {
    this.owning ??= this.establish(redis).finally(() => {
      this.owning = null;
    });
    return this.owning;
  }

  private async establish(redis: Redis): Promise<void> {
    if (this.fenced) {
      // Its own name first: a lease that lapsed with nobody claiming left its owned set as it was.
      let name = this.instance;
      let token = newToken(name);
      while (
        (await redis.eval(
          JOIN_SCRIPT,
          2,
          this.keys.lease(name),
          this.keys.instances,
          token,
          this.leaseMs,
          name,
        )) !== 1
      ) {
        this.rejoins += 1;
        name = `${this.baseId}~${this.rejoins}`;
        token = newToken(name);
      }
      if (name !== this.instance) this.formerNames.add(this.instance);
      this.instance = name;
      this.token = token;
      this.fenced = false;
      this.registered = false;
    }
    if (this.registered) return;
    // Written before and not in this name's set: claimed with a former name, or never registered here.
    // Written a few thousand events per script, whole messages each, so Redis is never held long.
    const owned = new Set(await redis.smembers(this.keys.owned(this.instance)));
    const at = Date.now();
    let ops: BatchOp[] = [];
    for (const record of this.state.pending()) {
      const id = record.message.messageId;
      if (owned.has(id) || !this.entries.has(id)) continue;
      for (const event of recordEvents(record, at)) ops.push({ op: 'insert', event });
      if (ops.length >= REGISTER_CHUNK) {
        await this.register(redis, ops);
        ops = [];
      }
    }
    if (ops.length > 0) await this.register(redis, ops);
    this.registered = true;
  }

  /** Writes held messages' events under the current name. */
  private async register(redis: Redis, ops: readonly BatchOp[]): Promise<void> {
    const added = await this.writeFenced(redis, writeArgs(ops, this.entries));
    if (added === null) {
      throw new JournalError('JOURNAL_LEASE_LOST', `the lease of ${this.instance} was lost again at once`);
    }
    // The entries written under a former name are its claimer's to compact now.
    for (const [index, op] of ops.entries()) {
      if (op.op !== 'insert') continue;
      const id = eventMessageId(op.event);
      if (op.event.type === 'accepted') this.entries.delete(id);
      this.remember(id, added[index] as string);
    }
  }

  private remember(messageId: string, entry: string): void {
    const list = this.entries.get(messageId);
    if (list === undefined) this.entries.set(messageId, [entry]);
    else list.push(entry);
  }

  /** Reports the entries a fold skipped (each once) and the ids it set aside as unreadable. */
  private report(fold: OwnedFold, where: string): void {
    const skipped = fold.skipped.filter((entry) => !this.reported.has(entry.id));
    for (const entry of skipped) this.reported.add(entry.id);
    if (skipped.length === 0 && fold.unreadable.length === 0) return;
    const listed = skipped.slice(0, 10).map((entry) => `${entry.id}: ${entry.error.message}`);
    const error = new JournalError(
      'JOURNAL_CORRUPT',
      `${skipped.length} stream entries skipped (${listed.join('; ')})` +
        (fold.unreadable.length === 0
          ? ''
          : `; messages ${fold.unreadable.slice(0, 10).join(', ')} do not decode and were moved to ${this.keys.unreadable}`),
    );
    (this.options.onError ?? ((e) => emitFerryWarning('FerryJournalWarning', where, e)))(error);
  }
}

function newToken(instance: string): string {
  return `${instance}:${Date.now()}:${Math.random().toString(36).slice(2)}`;
}
