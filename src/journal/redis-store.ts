/**
 * Reading and writing the Redis layout (redis-keys.ts): connecting, the schema check, the stream read
 * in chunks, the fold of an owned set, and a compacted batch as arguments of the write script. Shared
 * by the journal and the CLI's reader.
 *
 * @internal
 */
import type { Redis } from 'ioredis';
import { importOptional } from '../optional-deps.js';
import type { BatchOp } from './buffered-journal.js';
import { decodeEvent, encodeEvent, JOURNAL_SCHEMA_VERSION, type StoredEvent } from './codec.js';
import { eventMessageId, JournalState } from './fold.js';
import type { JournalEvent, PendingMessage } from './journal.js';
import { JournalError } from './journal-error.js';
import type { RedisKeys } from './redis-keys.js';

/** One entry read from the stream: its event, or why it does not decode. */
export type StreamEntry =
  | { readonly id: string; readonly event: JournalEvent; readonly error?: undefined }
  | {
      readonly id: string;
      /** The message id the entry names, when it names one. */
      readonly messageId: string | null;
      readonly error: JournalError;
    };

const READ_CHUNK = 1_000;

/** Connects, failing fast with `JOURNAL_UNAVAILABLE` when Redis does not answer. */
export async function connectRedis(url: string): Promise<Redis> {
  const { Redis } = await importOptional('ioredis', 'the Redis journal', () => import('ioredis'));
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 20 });
  // Connection errors reach the callers as failed commands (and a failed open); unheard, ioredis
  // would print each one with its stack. The first one names the cause of a failed connect.
  let cause: Error | null = null;
  redis.on('error', (error: Error) => {
    cause ??= error;
  });
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new JournalError(
      'JOURNAL_UNAVAILABLE',
      `cannot reach the redis journal: ${(cause ?? (error as Error)).message}`,
      { cause: error },
    );
  }
}

/** Refuses a layout written by a newer ferry; records this one's version on a fresh prefix. */
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

/** Reads the whole stream in order, in chunks; an entry that does not decode comes with its error. */
export async function* readStream(redis: Redis, keys: RedisKeys): AsyncGenerator<StreamEntry> {
  let start = '-';
  while (true) {
    const chunk = await redis.xrangeBuffer(keys.events, start, '+', 'COUNT', READ_CHUNK);
    for (const [rawId, rawFields] of chunk) {
      const id = rawId.toString();
      yield decodeEntry(id, rawFields, keys);
      start = `(${id}`;
    }
    if (chunk.length < READ_CHUNK) return;
  }
}

function decodeEntry(id: string, fields: Buffer[], keys: RedisKeys): StreamEntry {
  const values = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(String(fields[i]), fields[i + 1] as Buffer);
  const text = (name: string): string => values.get(name)?.toString('utf8') ?? '';
  const messageId = values.has('m') ? text('m') : null;
  if (messageId === null || !values.has('t')) {
    const error = new JournalError('JOURNAL_CORRUPT', `stream entry ${id} is not a ferry journal event`);
    return { id, messageId, error };
  }
  const stored: StoredEvent = {
    messageId,
    type: text('t') as StoredEvent['type'],
    at: Number(text('a')),
    data: text('d'),
    content: values.get('c') ?? null,
  };
  try {
    return { id, event: decodeEvent(stored, `${keys.events} entry ${id}`) };
  } catch (error) {
    return { id, messageId, error: error as JournalError };
  }
}

/** What the stream holds for a set of owned ids. */
export interface OwnedFold {
  /** The unfinished messages that folded, oldest first. */
  readonly records: PendingMessage[];
  /** Stream entry ids of each folded message's events. */
  readonly entries: Map<string, string[]>;
  /** Ids with entries none of which yields a message (its `accepted` does not decode). */
  readonly unreadable: string[];
  /** Ids with no entries left: another owner finished them. */
  readonly gone: string[];
  /** Entries of these ids (or naming no id) that do not decode, skipped. */
  readonly skipped: { readonly id: string; readonly error: JournalError }[];
}

/** Folds the stream's events of `ids`, skipping the entries that do not decode. */
export async function foldOwned(redis: Redis, keys: RedisKeys, ids: ReadonlySet<string>): Promise<OwnedFold> {
  const fold: OwnedFold = { records: [], entries: new Map(), unreadable: [], gone: [], skipped: [] };
  if (ids.size === 0) return fold;
  const state = new JournalState();
  const seen = new Set<string>();
  for await (const entry of readStream(redis, keys)) {
    const messageId = entry.error === undefined ? eventMessageId(entry.event) : entry.messageId;
    if (messageId !== null && !ids.has(messageId)) continue;
    if (entry.error !== undefined) {
      fold.skipped.push({ id: entry.id, error: entry.error });
      if (messageId !== null) seen.add(messageId);
      continue;
    }
    const id = messageId as string;
    seen.add(id);
    state.apply(entry.event);
    const list = fold.entries.get(id);
    if (list === undefined) fold.entries.set(id, [entry.id]);
    else list.push(entry.id);
  }
  fold.records.push(...state.pending());
  for (const id of ids) {
    if (state.has(id)) continue;
    fold.entries.delete(id);
    if (seen.has(id)) fold.unreadable.push(id);
    else fold.gone.push(id);
  }
  return fold;
}

/** A compacted batch as {@link WRITE_SCRIPT}'s arguments after the token. */
export function writeArgs(
  ops: readonly BatchOp[],
  entries: ReadonlyMap<string, string[]>,
): (string | Buffer)[] {
  const args: (string | Buffer)[] = [];
  for (const op of ops) {
    if (op.op === 'insert') {
      const row = encodeEvent(op.event);
      args.push('i', row.messageId, row.type, String(row.at), row.data);
      if (row.content === null) args.push('0');
      else args.push('1', row.content);
    } else {
      const ids = entries.get(op.messageId) ?? [];
      args.push('d', op.messageId, op.outcome, String(ids.length), ...ids);
    }
  }
  return args;
}
