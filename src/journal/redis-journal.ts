/**
 * The shared journal: Redis Streams, for several ferry instances sharing retry state (layout in
 * redis-keys.ts). Each instance owns the messages it accepted under a lease it renews; when an instance
 * stops renewing (it died), another claims its unfinished messages after the lease expires and
 * finishes them. A commit is durable once Redis has it: Redis's own persistence (AOF) decides whether
 * that survives a Redis restart.
 *
 * An instance that finds its lease lost (paused longer than the lease, or cut off from Redis) rejoins
 * under a new name: its old messages are someone else's now. It may still publish those it holds in
 * memory, which can only make duplicates, never losses.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { importOptional } from '../optional-deps.js';
import type { BatchOp } from './buffered-journal.js';
import { BufferedJournal } from './buffered-journal.js';
import { decodeEvent, encodeEvent, JOURNAL_SCHEMA_VERSION, type StoredEvent } from './codec.js';
import { eventMessageId, JournalState } from './fold.js';
import type { JournalEvent, PendingMessage } from './journal.js';
import type { RedisJournalOptions } from './journal-config.js';
import { JournalError } from './journal-error.js';
import { CLAIM_SCRIPT, RENEW_SCRIPT, RedisKeys } from './redis-keys.js';

export type { RedisJournalOptions } from './journal-config.js';

/** One entry read from the stream. */
interface StreamEntry {
  readonly id: string;
  readonly event: JournalEvent;
}

const READ_CHUNK = 1_000;

/** A journal in Redis, shared by several instances. */
export class RedisJournal extends BufferedJournal {
  readonly kind = 'redis';
  readonly durable = true;
  readonly claimIntervalMs: number;
  private readonly keys: RedisKeys;
  private readonly leaseMs: number;
  private readonly baseId: string;
  private instance: string;
  private token = '';
  private rejoins = 0;
  private redis: Redis | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  /** Stream entry ids of each owned message's events, for compaction. */
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
      await this.takeLease(redis);
      const owned = new Set(await redis.smembers(this.keys.owned(this.instance)));
      const records = await this.readOwned(redis, owned);
      this.redis = redis;
      this.renewTimer = setInterval(() => this.renew(), Math.max(20, Math.floor(this.leaseMs / 3)));
      this.renewTimer.unref();
      return records;
    } catch (error) {
      redis.disconnect();
      throw error;
    }
  }

  /** Claims the messages of every instance whose lease lapsed. */
  async claim(): Promise<readonly PendingMessage[]> {
    const redis = this.redis;
    if (redis === null) return [];
    const claimed = new Set<string>();
    for (const other of await redis.smembers(this.keys.instances)) {
      if (other === this.instance) continue;
      const ids = (await redis.eval(
        CLAIM_SCRIPT,
        4,
        this.keys.lease(other),
        this.keys.owned(other),
        this.keys.owned(this.instance),
        this.keys.instances,
        other,
        `claimed-by:${this.instance}`,
        String(this.leaseMs * 10),
      )) as string[] | null;
      for (const id of ids ?? []) claimed.add(id);
    }
    if (claimed.size === 0) return [];
    const records = await this.readOwned(redis, claimed);
    this.state.adopt(records);
    return records;
  }

  protected async write(ops: readonly BatchOp[]): Promise<void> {
    const redis = this.redis;
    if (redis === null) throw new JournalError('JOURNAL_WRITE_FAILED', 'the redis journal is closed');
    const owned = this.keys.owned(this.instance);
    const multi = redis.multi();
    const added: string[] = [];
    const totals = { confirmed: 0, 'dead-lettered': 0 };
    for (const op of ops) {
      if (op.op === 'insert') {
        const row = encodeEvent(op.event);
        const fields: (string | Buffer)[] = [
          'm',
          row.messageId,
          't',
          row.type,
          'a',
          String(row.at),
          'd',
          row.data,
        ];
        if (row.content !== null) fields.push('c', row.content);
        multi.xadd(this.keys.events, '*', ...fields);
        added.push(row.messageId);
        if (op.event.type === 'accepted') multi.sadd(owned, row.messageId);
      } else {
        const ids = this.entries.get(op.messageId) ?? [];
        this.entries.delete(op.messageId);
        if (ids.length > 0) multi.xdel(this.keys.events, ...ids);
        multi.srem(owned, op.messageId);
        totals[op.outcome] += 1;
      }
    }
    for (const [outcome, count] of Object.entries(totals)) {
      if (count > 0) multi.hincrby(this.keys.totals, outcome, count);
    }
    const results = await multi.exec();
    if (results === null) throw new JournalError('JOURNAL_WRITE_FAILED', 'the redis transaction was aborted');
    const failed = results.find(([error]) => error !== null);
    if (failed !== undefined) {
      throw new JournalError('JOURNAL_WRITE_FAILED', `redis refused a journal write: ${String(failed[0])}`);
    }
    let next = 0;
    for (const [, result] of results) {
      if (typeof result === 'string' && next < added.length) {
        const messageId = added[next] as string;
        next += 1;
        const list = this.entries.get(messageId);
        if (list === undefined) this.entries.set(messageId, [result]);
        else list.push(result);
      }
    }
  }

  protected async closeStore(opened: boolean): Promise<void> {
    if (this.renewTimer !== null) clearInterval(this.renewTimer);
    this.renewTimer = null;
    const redis = this.redis;
    this.redis = null;
    if (redis === null || !opened) return;
    // With nothing left to own, leave at once; otherwise the lease lapses and another instance claims.
    if (this.state.size === 0) {
      await redis
        .multi()
        .srem(this.keys.instances, this.instance)
        .del(this.keys.lease(this.instance))
        .exec()
        .catch(() => undefined);
    }
    await redis.quit().catch(() => redis.disconnect());
  }

  private async takeLease(redis: Redis): Promise<void> {
    this.token = `${this.instance}:${Date.now()}:${Math.random().toString(36).slice(2)}`;
    await redis
      .multi()
      .set(this.keys.lease(this.instance), this.token, 'PX', this.leaseMs)
      .sadd(this.keys.instances, this.instance)
      .exec();
  }

  private renew(): void {
    const redis = this.redis;
    if (redis === null) return;
    redis
      .eval(RENEW_SCRIPT, 1, this.keys.lease(this.instance), this.token, String(this.leaseMs))
      .then(async (renewed) => {
        if (renewed === 1 || this.redis !== redis) return;
        // Lost: whatever this instance owned may be another's now. Rejoin under a new name.
        const lost = [...this.entries.keys()];
        this.entries = new Map();
        this.state.forget(lost);
        this.rejoins += 1;
        this.instance = `${this.baseId}~${this.rejoins}`;
        await this.takeLease(redis);
      })
      .catch(() => undefined);
  }

  /** Folds the stream's events of `ids` and remembers their entry ids. */
  private async readOwned(redis: Redis, ids: ReadonlySet<string>): Promise<PendingMessage[]> {
    if (ids.size === 0) return [];
    const state = new JournalState();
    for await (const entry of readStream(redis, this.keys)) {
      const id = eventMessageId(entry.event);
      if (!ids.has(id)) continue;
      state.apply(entry.event);
      const list = this.entries.get(id);
      if (list === undefined) this.entries.set(id, [entry.id]);
      else list.push(entry.id);
    }
    return state.pending();
  }
}

/** Connects, failing fast with `JOURNAL_UNAVAILABLE` when Redis does not answer. */
export async function connectRedis(url: string): Promise<Redis> {
  const { Redis } = await importOptional('ioredis', 'the Redis journal', () => import('ioredis'));
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 20 });
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new JournalError(
      'JOURNAL_UNAVAILABLE',
      `cannot reach the redis journal: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Refuses a layout written by a newer ferry; records this one's version on a fresh prefix.
 *
 * @internal
 */
export async function checkSchema(redis: Redis, keys: RedisKeys): Promise<void> {
  await redis.set(keys.schema, String(JOURNAL_SCHEMA_VERSION), 'NX');
  const version = Number(await redis.get(keys.schema));
  if (!Number.isInteger(version)) {
    throw new JournalError('JOURNAL_CORRUPT', `${keys.schema} does not hold a schema version`);
  }
  if (version > JOURNAL_SCHEMA_VERSION) {
    throw new JournalError(
      'JOURNAL_TOO_NEW',
      `the redis journal ${keys.prefix} was written by a newer ferry (schema ${version}; this ferry reads up to ${JOURNAL_SCHEMA_VERSION}); nothing in it was changed`,
    );
  }
}

/**
 * Reads the whole stream in order, in chunks.
 *
 * @internal
 */
export async function* readStream(redis: Redis, keys: RedisKeys): AsyncGenerator<StreamEntry> {
  let start = '-';
  while (true) {
    const chunk = await redis.xrangeBuffer(keys.events, start, '+', 'COUNT', READ_CHUNK);
    for (const [rawId, rawFields] of chunk) {
      const id = rawId.toString();
      yield { id, event: decodeEvent(toStored(rawFields, id), `${keys.events} entry ${id}`) };
      start = `(${id}`;
    }
    if (chunk.length < READ_CHUNK) return;
  }
}

function toStored(fields: Buffer[], id: string): StoredEvent {
  const values = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(String(fields[i]), fields[i + 1] as Buffer);
  const text = (name: string): string => values.get(name)?.toString('utf8') ?? '';
  const at = Number(text('a'));
  if (!values.has('m') || !values.has('t')) {
    throw new JournalError('JOURNAL_CORRUPT', `stream entry ${id} is not a ferry journal event`);
  }
  return {
    messageId: text('m'),
    type: text('t') as StoredEvent['type'],
    at,
    data: text('d'),
    content: values.get('c') ?? null,
  };
}
