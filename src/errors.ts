/**
 * ferry's one error class and its codes. The mapping from what amqplib, Node's sockets and TLS throw is
 * beside the adapter, in src/amqp/amqplib-errors.ts.
 *
 * Every code has one severity, which says what happens next:
 *
 * | code | severity | permanent | comes from | what happens next |
 * | --- | --- | --- | --- | --- |
 * | `INVALID_MESSAGE` | caller | yes | a payload that cannot be encoded (not a Buffer, bad header value) | rejected to the caller; nothing accepted |
 * | `INVALID_OPTIONS` | caller | yes | bad configuration (no URL, unknown protocol, TLS options on `amqp://`) | rejected to the caller |
 * | `BUFFER_FULL` | caller | no | the bounded accept buffer is full | rejected to the caller, who may try later |
 * | `CLOSED` | caller | yes | the producer is closed or the operation was aborted | rejected to the caller |
 * | `BREAKER_OPEN` | caller | no | the circuit breaker is open | rejected to the caller, who may try later |
 * | `NACKED` | retry | no | `basic.nack` (full `reject-publish` queue, queue process error) | the message is retried with backoff |
 * | `CONFIRM_TIMEOUT` | retry | no | no ack/nack within the confirm timeout | unknown outcome: republished with the same message id |
 * | `CHANNEL_LOST` | retry | no | the confirm channel closed with confirms pending | unknown outcome: republished |
 * | `CONNECTION_LOST` | retry | no | socket reset/closed (`ECONNRESET`, `EPIPE`, "Unexpected close") | unknown outcome: republished after reconnecting |
 * | `RETURNED` | retry | no | `basic.return` 312 NO_ROUTE (mandatory publish, no queue bound) | retried, then dead-lettered |
 * | `UNKNOWN` | retry | no | anything unrecognised | retried: unknown errors are never dropped |
 * | `NOT_FOUND` | reopen-channel | no | 404: the exchange does not exist (closes the channel) | channel reopened, its pending messages republished |
 * | `PRECONDITION_FAILED` | reopen-channel | no | 406 on publish, other than the size limit | channel reopened, pending messages republished |
 * | `RESOURCE_LOCKED` | reopen-channel | no | 405: exclusive queue of another connection | channel reopened |
 * | `CONNECTION_FORCED` | reconnect | no | 320: `rabbitmqctl close_connection`, broker shutdown | reconnect with backoff |
 * | `CONNECTION_REFUSED` | reconnect | no | `ECONNREFUSED`, `EHOSTUNREACH`, `ENETUNREACH` | reconnect with backoff (next URL first) |
 * | `DNS_FAILURE` | reconnect | no | `ENOTFOUND`, `EAI_AGAIN` | reconnect with backoff |
 * | `CONNECT_TIMEOUT` | reconnect | no | `ETIMEDOUT`, an attempt over `connectionTimeoutMs` | reconnect with backoff |
 * | `HEARTBEAT_TIMEOUT` | reconnect | no | two heartbeat intervals without a frame from the broker | reconnect with backoff |
 * | `INTERNAL_ERROR` | reconnect | no | 541 | reconnect with backoff |
 * | `PROTOCOL_ERROR` | reconnect | no | 501–506, 540: a frame the peer did not accept | reconnect with backoff |
 * | `HEALTH_CHECK_TIMEOUT` | reconnect | no | the broker did not answer the health check | reconnect with backoff |
 * | `MESSAGE_TOO_LARGE` | dead-letter | yes | 406 "message size N is larger than configured max size M" (it closes the channel), or a message over the limit M learned from one, refused before it is written | that message is dead-lettered (parked while its hand-off is too large as well); the others on the closed channel are republished |
 * | `WRITE_REFUSED` | dead-letter | yes | 403 on `basic.publish`: no write permission on the exchange | that message is dead-lettered |
 * | `ACCESS_REFUSED` | fatal | yes | 403 at login (bad credentials) or on a declaration | configuration: no hot loop, retried at the max delay |
 * | `NOT_ALLOWED` | fatal | yes | 530 / 402: no access to the vhost, or no such vhost | configuration: no hot loop |
 * | `TOPOLOGY_MISMATCH` | fatal | yes | 406 on a declaration: the object exists with other arguments | configuration: no hot loop |
 * | `TLS_ERROR` | fatal | yes | certificate, handshake or protocol-version errors | configuration: no hot loop |
 *
 * `permanent` is what machines read (see machines/failure.ts): retrying the same thing cannot help.
 */

/** What happens after an error; see the table in this module's documentation. */
export type Severity = 'caller' | 'retry' | 'reopen-channel' | 'reconnect' | 'dead-letter' | 'fatal';

/** How a code is handled: its severity and whether retrying can help. */
export interface ErrorCodeInfo {
  readonly severity: Severity;
  readonly permanent: boolean;
}

const info = (severity: Severity, permanent: boolean): ErrorCodeInfo => ({ severity, permanent });

/** Every error code with its severity; the table in this module's documentation explains each. */
export const FERRY_ERROR_CODES = {
  INVALID_MESSAGE: info('caller', true),
  INVALID_OPTIONS: info('caller', true),
  BUFFER_FULL: info('caller', false),
  CLOSED: info('caller', true),
  BREAKER_OPEN: info('caller', false),
  NACKED: info('retry', false),
  CONFIRM_TIMEOUT: info('retry', false),
  CHANNEL_LOST: info('retry', false),
  CONNECTION_LOST: info('retry', false),
  RETURNED: info('retry', false),
  UNKNOWN: info('retry', false),
  NOT_FOUND: info('reopen-channel', false),
  PRECONDITION_FAILED: info('reopen-channel', false),
  RESOURCE_LOCKED: info('reopen-channel', false),
  CONNECTION_FORCED: info('reconnect', false),
  CONNECTION_REFUSED: info('reconnect', false),
  DNS_FAILURE: info('reconnect', false),
  CONNECT_TIMEOUT: info('reconnect', false),
  HEARTBEAT_TIMEOUT: info('reconnect', false),
  INTERNAL_ERROR: info('reconnect', false),
  PROTOCOL_ERROR: info('reconnect', false),
  HEALTH_CHECK_TIMEOUT: info('reconnect', false),
  MESSAGE_TOO_LARGE: info('dead-letter', true),
  WRITE_REFUSED: info('dead-letter', true),
  ACCESS_REFUSED: info('fatal', true),
  NOT_ALLOWED: info('fatal', true),
  TOPOLOGY_MISMATCH: info('fatal', true),
  TLS_ERROR: info('fatal', true),
} as const satisfies Record<string, ErrorCodeInfo>;

/** A machine-readable error code; see {@link FERRY_ERROR_CODES}. */
export type FerryErrorCode = keyof typeof FERRY_ERROR_CODES;

/** Plain data attached to an error: safe to journal, never credentials or message bodies. */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/** Options of the {@link FerryError} constructor. */
export interface FerryErrorOptions {
  readonly cause?: unknown;
  readonly details?: ErrorDetails;
}

/**
 * The error ferry rejects with and reports in events. It satisfies machines/failure.ts's `Failure`
 * (`code`, `message`, `permanent`), so machines can read it without importing the runtime.
 */
export class FerryError extends Error {
  override readonly name = 'FerryError';
  readonly code: FerryErrorCode;
  readonly severity: Severity;
  readonly permanent: boolean;
  readonly details?: ErrorDetails;

  constructor(code: FerryErrorCode, message: string, options: FerryErrorOptions = {}) {
    super(redactUrl(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.severity = FERRY_ERROR_CODES[code].severity;
    this.permanent = FERRY_ERROR_CODES[code].permanent;
    if (options.details !== undefined) this.details = options.details;
  }

  /**
   * A FerryError as it is; anything else as a `fallback` (default `UNKNOWN`) error carrying it as its
   * cause. What amqplib, Node's sockets and TLS throw is classified by the adapter
   * (src/amqp/amqplib-errors.ts) before it reaches the runtime.
   */
  static from(error: unknown, fallback: FerryErrorCode = 'UNKNOWN'): FerryError {
    if (error instanceof FerryError) return error;
    if (typeof error !== 'object' || error === null) return new FerryError(fallback, String(error));
    const message: unknown = Reflect.get(error, 'message');
    return new FerryError(fallback, typeof message === 'string' ? message : String(error), { cause: error });
  }

  /** Plain data for logs and journals: `JSON.stringify` of an Error drops its message otherwise. */
  toJSON(): Readonly<Record<string, unknown>> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      severity: this.severity,
      permanent: this.permanent,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/** `scheme://user:secret@` → `scheme://user:***@`, greedy up to the last `@` so a raw `@` in a password cannot leak. */
const CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):\S*@/gi;

/**
 * A URL without its password (`amqp://user:pass@host` → `amqp://user:***@host`), for logs and status.
 * Works on any text: every URL in it is redacted.
 */
export function redactUrl(url: string): string {
  return url.replace(CREDENTIALS, '$1:***@');
}
