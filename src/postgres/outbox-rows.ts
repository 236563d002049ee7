/**
 * Messages to and from outbox rows. A row holds the `accepted` event as columns (what plain SQL can
 * write too) and the message's later events in `events`, each stored with the journal's own codec, so
 * a row folds with the same fold as every other journal.
 *
 * @internal
 */
import { decodeEvent, encodeEvent, parseStored } from '../journal/codec.js';
import { acceptedPending, foldJournal } from '../journal/fold.js';
import type { JournalEvent, PendingMessage } from '../journal/journal.js';
import { JournalError } from '../journal/journal-error.js';
import type { MessageProperties, OutboundMessage } from '../message/outbound-message.js';

/** The `accepted` columns of many messages, as arrays for one `unnest` insert. */
export interface AcceptedColumns {
  readonly ids: string[];
  readonly exchanges: string[];
  readonly routingKeys: string[];
  readonly properties: string[];
  readonly contents: Buffer[];
  readonly acceptedAt: number[];
}

/** Splits messages into the columns {@link AcceptedColumns} lists. */
export function acceptedColumns(messages: readonly OutboundMessage[]): AcceptedColumns {
  const columns: AcceptedColumns = {
    ids: [],
    exchanges: [],
    routingKeys: [],
    properties: [],
    contents: [],
    acceptedAt: [],
  };
  for (const message of messages) {
    columns.ids.push(message.messageId);
    columns.exchanges.push(message.exchange);
    columns.routingKeys.push(message.routingKey);
    columns.properties.push(JSON.stringify(message.properties));
    columns.contents.push(message.content);
    columns.acceptedAt.push(message.acceptedAt);
  }
  return columns;
}

/** One later event as an element of the `events` column. */
export function storedEvent(event: JournalEvent): { t: string; a: number; d: string } {
  const stored = encodeEvent(event);
  return { t: stored.type, a: stored.at, d: stored.data };
}

/** A claimed row, as the claim statement returns it. */
export type ClaimedRow = {
  readonly seq: string;
  readonly message_id: string;
  readonly exchange: string;
  readonly routing_key: string;
  /** The properties as JSON text, as stored. */
  readonly properties: string;
  /** The body in base64, as PostgreSQL's `encode` writes it (see {@link rowColumns}). */
  readonly content: string;
  readonly accepted_at: string;
  /** The `events` column as JSON text. */
  readonly events: string;
};

/**
 * The events a row holds: its `accepted` event, then its later ones, in the order they happened.
 *
 * @throws JournalError `JOURNAL_CORRUPT` naming the row when it does not decode.
 */
export function rowEvents(row: ClaimedRow): JournalEvent[] {
  return [{ type: 'accepted', message: rowMessage(row) }, ...laterEvents(row)];
}

const NO_LATER_EVENTS: readonly JournalEvent[] = [];

/** The events a row holds after its `accepted` one (the `events` column), decoded. */
function laterEvents(row: ClaimedRow): readonly JournalEvent[] {
  // A row nobody has relayed yet, nearly every row a claim takes, has no later events to parse.
  if (row.events === '[]') return NO_LATER_EVENTS;
  let later: { t: JournalEvent['type']; a: number; d: string }[];
  try {
    later = JSON.parse(row.events) as typeof later;
  } catch (error) {
    throw corrupt(row, 'its events are not JSON', error);
  }
  if (!Array.isArray(later)) throw corrupt(row, 'its events are not a list');
  const where = rowName(row);
  return later.map((event) =>
    decodeEvent(
      { messageId: row.message_id, type: event.t, at: event.a, data: event.d, content: null },
      where,
    ),
  );
}

/** How errors name a row (built only when one may be needed: the relay decodes every row it claims). */
const rowName = (row: ClaimedRow) => `outbox row ${row.seq}`;

function corrupt(row: ClaimedRow, why: string, cause?: unknown): JournalError {
  return new JournalError('JOURNAL_CORRUPT', `journal ${rowName(row)} does not decode: ${why}`, { cause });
}

/**
 * A row's message, with the properties every relayed row gets: a content type when the row was
 * written by plain SQL without one, and always the row's own message id. Built from the columns
 * directly rather than through the codec's `accepted` event, whose JSON would first be assembled from
 * those columns only to be parsed again (the relay decodes every row it claims).
 */
function rowMessage(row: ClaimedRow): OutboundMessage {
  const acceptedAt = Number(row.accepted_at);
  if (row.message_id === '' || !Number.isFinite(acceptedAt)) throw corrupt(row, 'no message id or time');
  let stored: unknown;
  try {
    stored = parseStored(row.properties);
  } catch (error) {
    throw corrupt(row, 'its properties are not JSON', error);
  }
  if (typeof stored !== 'object' || stored === null) {
    throw corrupt(row, 'its properties are not an object');
  }
  // Plain SQL may leave out what ferry's own rows always have. The object was parsed just now and is
  // nobody else's, so it is completed in place: a spread into a new one cost 1 µs a row (measured).
  const properties = stored as { -readonly [K in keyof MessageProperties]: MessageProperties[K] };
  properties.contentType ??= 'application/octet-stream';
  properties.messageId = row.message_id;
  properties.persistent = true;
  return {
    messageId: row.message_id,
    exchange: row.exchange,
    routingKey: row.routing_key,
    content: Buffer.from(row.content, 'base64'),
    acceptedAt,
    properties,
  };
}

/**
 * Folds claimed rows into the messages they hold, oldest first. A row that does not decode (written by
 * hand with bad JSON, say) goes to `onCorrupt` and is left out, so it holds up none of the others; it
 * stays in the table for an operator.
 *
 * Each row is one message (`message_id` is unique), so each folds on its own, and a row with no later
 * events, nearly every row a claim takes, is its `accepted` event's record without a fold at all.
 */
export function foldRows(rows: readonly ClaimedRow[], onCorrupt: (error: unknown) => void): PendingMessage[] {
  const ordered = [...rows].sort((a, b) => Number(a.seq) - Number(b.seq));
  const pending: PendingMessage[] = [];
  for (const row of ordered) {
    try {
      const message = rowMessage(row);
      const later = laterEvents(row);
      if (later.length === 0) pending.push(acceptedPending(message));
      else pending.push(...foldJournal([{ type: 'accepted', message }, ...later]).pending());
    } catch (error) {
      onCorrupt(error);
    }
  }
  return pending;
}

/**
 * The select list that reads a row as a {@link ClaimedRow}: the columns as they are stored, for
 * {@link rowEvents} to complete (building the properties in SQL cost the claim about a tenth of its
 * time in PostgreSQL, which relays share). The body comes as base64 text rather than as `bytea`:
 * node-postgres reads every column as a string, so a `bytea` arrives hex-encoded, twice its size, and
 * its hex parse cost the relay about twice as much as base64's does, per row, measured on 1 KiB
 * bodies; base64 is also a third fewer bytes for PostgreSQL to send. Decoding it here, rather than
 * through a type parser, leaves node-postgres's parsers, which the application's pool may share, as
 * they are.
 */
export function rowColumns(alias: string): string {
  const o = alias;
  return `${o}.seq::text AS seq, ${o}.message_id, ${o}.exchange, ${o}.routing_key, ${o}.properties::text AS properties,
  encode(${o}.content, 'base64') AS content, ${o}.accepted_at::text AS accepted_at, ${o}.events::text AS events`;
}
