/**
 * How events are stored: a row of plain columns (message id, type, time), the rest as JSON, and a
 * message's body as raw bytes. Shared by the sqlite and redis backends and by `ferry journal export`.
 *
 * Header values that are Buffers survive the round trip (JSON carries them as `{type: 'Buffer'}`);
 * anything else in headers must be JSON already, which is what AMQP tables carry in practice.
 */
import type { MessageProperties, OutboundMessage } from '../message/outbound-message.js';
import { eventMessageId } from './fold.js';
import type { JournalEvent, JournalEventType } from './journal.js';
import { JournalError } from './journal-error.js';

/** The newest storage schema this ferry reads and writes. */
export const JOURNAL_SCHEMA_VERSION = 1;

/** One stored event. */
export interface StoredEvent {
  readonly messageId: string;
  readonly type: JournalEventType;
  readonly at: number;
  /** Everything else, as JSON. */
  readonly data: string;
  /** The message body, for `accepted` only. */
  readonly content: Buffer | null;
}

const EVENT_TYPES: ReadonlySet<string> = new Set<JournalEventType>([
  'accepted',
  'failed',
  'retry-scheduled',
  'confirmed',
  'dead-lettered',
  'parked',
]);

/** Splits an event into stored columns. */
export function encodeEvent(event: JournalEvent): StoredEvent {
  if (event.type === 'accepted') {
    // Named rather than a rest pattern, which copies the object key by key before it is serialised.
    const { messageId, content, acceptedAt, exchange, routingKey, properties } = event.message;
    const data = JSON.stringify({ exchange, routingKey, properties });
    return { messageId, type: 'accepted', at: acceptedAt, data, content };
  }
  const { type, messageId, at, ...rest } = event;
  return { messageId, type, at, data: JSON.stringify(rest), content: null };
}

function reviveBuffers(_key: string, value: unknown): unknown {
  if (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  ) {
    return Buffer.from((value as { data: number[] }).data);
  }
  return value;
}

/**
 * Stored JSON as values, with the Buffers headers held turned back into Buffers.
 *
 * @throws SyntaxError when `text` is not JSON.
 */
export function parseStored(text: string): unknown {
  // A reviver costs a call per value; only data that names a Buffer can hold one (JSON as ferry and
  // PostgreSQL write it spells the word out), and most messages have no Buffer headers at all.
  return text.includes('Buffer') ? JSON.parse(text, reviveBuffers) : JSON.parse(text);
}

/**
 * Rebuilds an event from its stored columns.
 *
 * @param where - names the row in the error (`seq 42`, `entry 1700000000000-0`).
 * @throws JournalError `JOURNAL_CORRUPT` when the row does not decode to an event.
 */
export function decodeEvent(stored: StoredEvent, where: string): JournalEvent {
  const corrupt = (why: string, cause?: unknown): JournalError =>
    new JournalError('JOURNAL_CORRUPT', `journal ${where} does not decode: ${why}`, { cause });
  if (!EVENT_TYPES.has(stored.type)) throw corrupt(`unknown event type ${JSON.stringify(stored.type)}`);
  if (typeof stored.messageId !== 'string' || stored.messageId === '') throw corrupt('no message id');
  if (!Number.isFinite(stored.at)) throw corrupt('no time');
  let data: Record<string, unknown>;
  try {
    data = parseStored(stored.data) as Record<string, unknown>;
  } catch (error) {
    throw corrupt('its data is not JSON', error);
  }
  if (typeof data !== 'object' || data === null) throw corrupt('its data is not an object');
  if (stored.type === 'accepted') {
    if (stored.content === null) throw corrupt('an accepted message without its body');
    const { exchange, routingKey, properties } = data;
    if (typeof exchange !== 'string' || typeof routingKey !== 'string' || !isObject(properties)) {
      throw corrupt('an accepted message without exchange, routing key or properties');
    }
    const message: OutboundMessage = {
      messageId: stored.messageId,
      exchange,
      routingKey,
      content: stored.content,
      acceptedAt: stored.at,
      // Written by ferry from a validated message: its properties are stored as they were published.
      properties: properties as MessageProperties,
    };
    return { type: 'accepted', message };
  }
  const event = { ...data, type: stored.type, messageId: stored.messageId, at: stored.at } as JournalEvent;
  if (!hasFields(event)) throw corrupt(`a ${stored.type} event without its fields`);
  return event;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}

function hasFields(event: JournalEvent): boolean {
  switch (event.type) {
    case 'failed':
      return typeof event.attempts === 'number' && isObject(event.failure);
    case 'retry-scheduled':
      return (
        typeof event.delayMs === 'number' &&
        typeof event.retryAt === 'number' &&
        typeof event.random === 'number'
      );
    case 'parked':
      return typeof event.deadLetterFailures === 'number' && typeof event.retryAt === 'number';
    default:
      return true;
  }
}

/** One event as a line of `ferry journal export`: the event itself, its body in base64. */
export function exportLine(event: JournalEvent, position: string): string {
  if (event.type !== 'accepted') return JSON.stringify({ position, ...event });
  const { content, ...message } = event.message;
  return JSON.stringify({
    position,
    type: 'accepted',
    messageId: eventMessageId(event),
    message: { ...message, content: content.toString('base64') },
  });
}
