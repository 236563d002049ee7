/**
 * What a caller hands to `publish()`, and its validation into the message ferry owns from then on.
 *
 * Validation is hand-written rather than a schema library: it runs once per message on the hot path,
 * and a handful of typeof checks cost far less than building a schema result.
 */
import { randomUUID } from 'node:crypto';
import { FerryError } from '../errors.js';
import type { MessageProperties, OutboundMessage } from '../message/outbound-message.js';

/** A JSON value, the third kind of body `publish()` takes. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A message to publish. */
export interface PublishRequest {
  /** `''` is the default exchange: it routes to the queue named by `routingKey`. */
  readonly exchange: string;
  readonly routingKey: string;
  /** Bytes are sent as they are; a string as UTF-8 text; anything else as JSON. */
  readonly body: Buffer | Uint8Array | string | JsonValue;
  /** The idempotency key consumers dedupe on; generated (UUID v4) when absent. */
  readonly messageId?: string;
  readonly correlationId?: string;
  readonly headers?: Readonly<Record<string, unknown>>;
  /** Overrides the content type derived from the body. */
  readonly contentType?: string;
  readonly contentEncoding?: string;
  /** AMQP `type` property. */
  readonly type?: string;
  /** 0–255; only meaningful on priority queues. */
  readonly priority?: number;
  /** Per-message TTL, ms. */
  readonly expirationMs?: number;
}

/** The properties the producer's options add to every message. */
export interface OptionalProperties {
  /** Set as every message's `appId` when defined. */
  readonly appId: string | undefined;
  /** Set every message's `timestamp`. */
  readonly timestamp: boolean;
}

/** Limits applied while validating, and the properties the options add. */
export interface RequestLimits extends OptionalProperties {
  readonly maxMessageBytes: number;
}

const MAX_SHORT_STRING = 255;
/** A string this short cannot exceed {@link MAX_SHORT_STRING} bytes of UTF-8 (3 bytes per UTF-16 unit at most). */
const SURELY_SHORT = Math.floor(MAX_SHORT_STRING / 3);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Bodies are carved from slabs of this size rather than Node's shared 8 KiB buffer pool: creating an
 * `ArrayBuffer` is the costly part of allocating a 1 KiB body (a CPU profile of the routed bench put
 * it at a few per cent of ferry's CPU), and a slab serves about thirty such bodies where a pool
 * serves seven. A held body keeps its whole slab alive, as it kept its pool: a message held long
 * (retrying, parked) among others that were confirmed pins at most 32 KiB rather than 8.
 */
const SLAB_BYTES = 32 * 1_024;
/** Larger bodies get a buffer of their own: they would waste most of a slab's tail. */
const MAX_SLAB_BODY = SLAB_BYTES / 8;
let slab = Buffer.allocUnsafeSlow(0);
let slabOffset = 0;

/**
 * UTF-8 bytes of `text` in a buffer of exactly their size. `Buffer.from(text)` reserves up to 4 bytes
 * per character before it knows the real length, so a 1 KiB body left a fresh 8 KiB pool after every
 * five: held until their confirms, 50,000 such bodies took 78 MiB for 48 MiB.
 */
function utf8(text: string): Buffer {
  // A UTF-16 unit is at most 3 bytes of UTF-8: a text that surely is a slab body and fits in the
  // slab's rest is written there at once, and the write says how long it was, which spares a
  // measuring pass over the text.
  const most = text.length * 3;
  if (most <= MAX_SLAB_BODY && most <= slab.length - slabOffset) {
    return carve(slab.write(text, slabOffset, 'utf8'));
  }
  const length = Buffer.byteLength(text, 'utf8');
  if (length > MAX_SLAB_BODY) {
    const content = Buffer.allocUnsafeSlow(length);
    content.write(text, 0, length, 'utf8');
    return content;
  }
  if (length > slab.length - slabOffset) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabOffset = 0;
  }
  return carve(slab.write(text, slabOffset, length, 'utf8'));
}

/** The `length` bytes just written at the slab's offset, as a body of their own. */
function carve(length: number): Buffer {
  const content = slab.subarray(slabOffset, slabOffset + length);
  // 8-byte aligned, as Node's pool keeps its slices.
  slabOffset += (length + 7) & ~7;
  return content;
}

function encodeBody(
  body: PublishRequest['body'],
  problems: string[],
): { content: Buffer; contentType: string } {
  if (Buffer.isBuffer(body)) return { content: body, contentType: 'application/octet-stream' };
  if (body instanceof Uint8Array) {
    return {
      content: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
      contentType: 'application/octet-stream',
    };
  }
  if (typeof body === 'string') return { content: utf8(body), contentType: 'text/plain; charset=utf-8' };
  if (body === undefined) {
    problems.push('body is required');
    return { content: Buffer.alloc(0), contentType: 'application/json' };
  }
  try {
    const text = JSON.stringify(body);
    if (text === undefined) throw new TypeError('not representable as JSON');
    // JSON.stringify writes NaN and ±Infinity as null: a body that changed on the way is refused. Only
    // a text with a null in it can hide one, so most bodies are never walked.
    if (text.includes('null')) {
      const where = nonFiniteNumber(body);
      if (where !== null) throw new TypeError(`${where} is not a finite number`);
    }
    return { content: utf8(text), contentType: 'application/json' };
  } catch (error) {
    problems.push(`body is not serialisable as JSON (${(error as Error).message})`);
    return { content: Buffer.alloc(0), contentType: 'application/json' };
  }
}

/** The path of the first NaN or ±Infinity in a JSON-serialisable value, or `null`; walked without recursion. */
function nonFiniteNumber(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, 'body']];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [item, path] = next;
    if (typeof item === 'number' && !Number.isFinite(item)) return path;
    if (
      typeof item !== 'object' ||
      item === null ||
      typeof (item as { toJSON?: unknown }).toJSON === 'function'
    )
      continue;
    for (const [key, child] of Object.entries(item)) stack.push([child, `${path}.${key}`]);
  }
  return null;
}

function checkShortString(name: string, value: unknown, required: boolean, problems: string[]): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'string') {
    problems.push(`${name} must be a string`);
  } else if (value.length > SURELY_SHORT && Buffer.byteLength(value) > MAX_SHORT_STRING) {
    problems.push(`${name} must be at most ${MAX_SHORT_STRING} bytes`);
  }
}

/**
 * Sets the `timestamp` and `appId` the options ask for on `properties`, a fresh object, where it has
 * none: a new message has neither, a message taken back from the alternate exchange keeps its own.
 */
export function addOptionalProperties(
  properties: { timestamp?: number; appId?: string },
  options: OptionalProperties,
  now: number,
): void {
  if (options.timestamp && properties.timestamp === undefined) properties.timestamp = Math.floor(now / 1000);
  if (options.appId !== undefined && properties.appId === undefined) properties.appId = options.appId;
}

/**
 * Validates a request and turns it into an {@link OutboundMessage}.
 *
 * @throws FerryError `INVALID_MESSAGE` listing every problem; nothing has been accepted.
 */
export function toOutboundMessage(
  request: PublishRequest,
  now: number,
  limits: RequestLimits,
): OutboundMessage {
  const problems: string[] = [];
  if (typeof request !== 'object' || request === null) {
    throw new FerryError('INVALID_MESSAGE', 'a publish request must be an object');
  }
  checkShortString('exchange', request.exchange, true, problems);
  checkShortString('routingKey', request.routingKey, true, problems);
  checkShortString('messageId', request.messageId, false, problems);
  if (request.messageId === '') problems.push('messageId must not be empty');
  checkShortString('correlationId', request.correlationId, false, problems);
  checkShortString('contentType', request.contentType, false, problems);
  checkShortString('contentEncoding', request.contentEncoding, false, problems);
  checkShortString('type', request.type, false, problems);
  const { headers, priority, expirationMs } = request;
  if (headers !== undefined && (typeof headers !== 'object' || headers === null || Array.isArray(headers))) {
    problems.push('headers must be an object');
  }
  if (priority !== undefined && !(Number.isInteger(priority) && priority >= 0 && priority <= 255)) {
    problems.push('priority must be an integer from 0 to 255');
  }
  if (expirationMs !== undefined && !(Number.isInteger(expirationMs) && expirationMs >= 0)) {
    problems.push('expirationMs must be a non-negative integer');
  }
  const { content, contentType } = encodeBody(request.body, problems);
  if (content.byteLength > limits.maxMessageBytes) {
    problems.push(`body is ${content.byteLength} bytes, over the limit of ${limits.maxMessageBytes}`);
  }
  if (problems.length > 0) {
    throw new FerryError('INVALID_MESSAGE', `invalid message: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  const messageId = request.messageId ?? randomUUID();
  // Built field by field: a literal of conditional spreads allocates an object per optional field,
  // per message.
  const properties: Mutable<MessageProperties> = {
    messageId,
    contentType: request.contentType ?? contentType,
    persistent: true,
  };
  addOptionalProperties(properties, limits, now);
  if (request.correlationId !== undefined) properties.correlationId = request.correlationId;
  if (request.contentEncoding !== undefined) properties.contentEncoding = request.contentEncoding;
  if (headers !== undefined) properties.headers = headers;
  if (request.type !== undefined) properties.type = request.type;
  if (priority !== undefined) properties.priority = priority;
  if (expirationMs !== undefined) properties.expiration = expirationMs;
  return {
    messageId,
    exchange: request.exchange,
    routingKey: request.routingKey,
    content,
    acceptedAt: now,
    properties,
  };
}
