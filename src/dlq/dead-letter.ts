/**
 * A message in ferry's dead-letter queue, read back from the `x-ferry-*` headers ferry wrote when it
 * dead-lettered it, and the publish request that sends it back where it was going.
 */
import type { Message } from 'amqplib';
import { DEAD_LETTER_HEADERS } from '../producer/dead-letter-headers.js';
import type { PublishRequest } from '../producer/publish-request.js';

/** What an operator needs to know about one dead letter; `null` where a header is missing. */
export interface DeadLetter {
  readonly messageId: string | null;
  /** The failure code (`RETURNED`, `NACKED`, …). */
  readonly reason: string | null;
  readonly error: string | null;
  readonly attempts: number | null;
  readonly originalExchange: string | null;
  readonly originalRoutingKey: string | null;
  /** ISO 8601. */
  readonly firstAcceptedAt: string | null;
  /** ISO 8601. */
  readonly deadLetteredAt: string | null;
  readonly bodyBytes: number;
}

const FERRY_HEADER = /^x-ferry-/;

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return null;
}

/** Reads the `x-ferry-*` headers of a dead-lettered message. */
export function readDeadLetter(message: Message): DeadLetter {
  const headers = message.properties.headers ?? {};
  const attempts = Number(headers[DEAD_LETTER_HEADERS.attempts]);
  return {
    messageId: text(message.properties.messageId),
    reason: text(headers[DEAD_LETTER_HEADERS.reason]),
    error: text(headers[DEAD_LETTER_HEADERS.error]),
    attempts: Number.isInteger(attempts) ? attempts : null,
    originalExchange: text(headers[DEAD_LETTER_HEADERS.originalExchange]),
    originalRoutingKey: text(headers[DEAD_LETTER_HEADERS.originalRoutingKey]),
    firstAcceptedAt: text(headers[DEAD_LETTER_HEADERS.firstAcceptedAt]),
    deadLetteredAt: text(headers[DEAD_LETTER_HEADERS.deadLetteredAt]),
    bodyBytes: message.content.byteLength,
  };
}

/**
 * The request that publishes a dead letter again to its original exchange and routing key, with the
 * same message id (consumers dedupe on it), body and properties, and without ferry's `x-ferry-*`
 * headers. `null` when the message does not say where it was going (it was not dead-lettered by ferry).
 */
export function requeueRequest(message: Message): PublishRequest | null {
  const letter = readDeadLetter(message);
  if (letter.originalExchange === null || letter.originalRoutingKey === null) return null;
  const p = message.properties;
  const headers = Object.fromEntries(
    Object.entries(p.headers ?? {}).filter(([name]) => !FERRY_HEADER.test(name)),
  );
  const expiration = p.expiration === undefined ? Number.NaN : Number(p.expiration);
  return {
    exchange: letter.originalExchange,
    routingKey: letter.originalRoutingKey,
    body: message.content,
    ...(letter.messageId === null ? {} : { messageId: letter.messageId }),
    ...(Object.keys(headers).length === 0 ? {} : { headers }),
    ...(typeof p.contentType === 'string' ? { contentType: p.contentType } : {}),
    ...(typeof p.contentEncoding === 'string' ? { contentEncoding: p.contentEncoding } : {}),
    ...(typeof p.correlationId === 'string' ? { correlationId: p.correlationId } : {}),
    ...(typeof p.type === 'string' ? { type: p.type } : {}),
    ...(typeof p.priority === 'number' ? { priority: p.priority } : {}),
    ...(Number.isInteger(expiration) ? { expirationMs: expiration } : {}),
  };
}
