/**
 * ferry's one error class and the mapping from everything amqplib, Node's sockets and TLS throw to it.
 *
 * Every code has one severity, which says what happens next (`caller`: rejected to the caller;
 * `retry`: the message is retried; `reopen-channel`; `reconnect`; `dead-letter`; `fatal`: a configuration
 * error, retried slowly). docs/errors.md is the reference, generated from {@link FERRY_ERROR_CODES}.
 *
 * `permanent` is what machines read (see machines/failure.ts): retrying the same thing cannot help.
 */
import { parseSizeRefusal } from './amqp/size-refusal.js';
import { FERRY_ERROR_CODES, type FerryErrorCode, type Severity } from './error-codes.js';

export {
  type ErrorCodeInfo,
  FERRY_ERROR_CODES,
  type FerryErrorCode,
  ferryErrorCode,
  type Severity,
} from './error-codes.js';

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
   * Maps anything thrown or emitted by amqplib, Node's sockets or TLS to a FerryError; a FerryError is
   * returned as it is. `fallback` is the code for errors nothing here recognises (default `UNKNOWN`).
   */
  static from(error: unknown, fallback: FerryErrorCode = 'UNKNOWN'): FerryError {
    if (error instanceof FerryError) return error;
    if (typeof error !== 'object' || error === null) return new FerryError(fallback, String(error));
    const candidate = error as ErrorLike;
    const message = typeof candidate.message === 'string' ? candidate.message : String(error);
    return new FerryError(classify(candidate, message) ?? fallback, message, {
      cause: error,
      ...replyDetails(candidate, message),
    });
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

/** The fields of the errors amqplib and Node produce that classification reads. */
interface ErrorLike {
  readonly message?: unknown;
  readonly name?: unknown;
  /** A number: an AMQP reply code (amqplib); a string: a Node/OpenSSL error code. */
  readonly code?: unknown;
  /** AMQP class of the method that failed: 40 exchange, 50 queue, 60 basic. */
  readonly classId?: unknown;
  readonly methodId?: unknown;
  /** Set by OpenSSL errors ("SSL routines"). */
  readonly library?: unknown;
}

const AMQP_CLASS_BASIC = 60;

/** amqplib's handshake and close messages carry the reply code as text: `403 (ACCESS-REFUSED)`. */
const REPLY_IN_TEXT = /\b([2-5]\d\d) \([A-Z-]+\)/;

const SOCKET_CODES: Readonly<Record<string, FerryErrorCode>> = {
  ECONNREFUSED: 'CONNECTION_REFUSED',
  EHOSTUNREACH: 'CONNECTION_REFUSED',
  ENETUNREACH: 'CONNECTION_REFUSED',
  EADDRNOTAVAIL: 'CONNECTION_REFUSED',
  ENOTFOUND: 'DNS_FAILURE',
  EAI_AGAIN: 'DNS_FAILURE',
  EAI_FAIL: 'DNS_FAILURE',
  ETIMEDOUT: 'CONNECT_TIMEOUT',
  ECONNRESET: 'CONNECTION_LOST',
  EPIPE: 'CONNECTION_LOST',
  ECONNABORTED: 'CONNECTION_LOST',
  ABORT_ERR: 'CLOSED',
};

/** OpenSSL and Node TLS codes: `ERR_SSL_WRONG_VERSION_NUMBER`, `CERT_HAS_EXPIRED`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, … */
const TLS_CODE = /^(ERR_(SSL|TLS|OSSL)_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|.*CERT)/;

/** Exact texts amqplib 2.3.1 uses for errors without a code (lib/connection.js, channel.js, connect.js). */
const MESSAGE_PATTERNS: readonly (readonly [RegExp, FerryErrorCode])[] = [
  // 530 (or 402) at connection.open: amqplib drops the reply code and text.
  [/^Expected ConnectionOpenOk; got <ConnectionClose/, 'NOT_ALLOWED'],
  [/^Heartbeat timeout/, 'HEARTBEAT_TIMEOUT'],
  [/^connect ETIMEDOUT/, 'CONNECT_TIMEOUT'],
  [/^message nacked/, 'NACKED'],
  [/^(Channel clos(ed|ing)|channel closed|Channel ended)/, 'CHANNEL_LOST'],
  [/^(Connection clos(ed|ing)|Unexpected close|Socket closed abruptly)/, 'CONNECTION_LOST'],
  [/^content is not a buffer|^Expected buffer/, 'INVALID_MESSAGE'],
];

function classify(error: ErrorLike, message: string): FerryErrorCode | undefined {
  if (typeof error.code === 'number') return fromReplyCode(error.code, error.classId, message);
  if (typeof error.code === 'string') {
    const socket = SOCKET_CODES[error.code];
    if (socket !== undefined) return socket;
    if (TLS_CODE.test(error.code)) return 'TLS_ERROR';
  }
  if (error.library !== undefined || message.includes('SSL routines')) return 'TLS_ERROR';
  if (error.name === 'AbortError') return 'CLOSED';
  if (error.name === 'TimeoutError') return 'CONNECT_TIMEOUT';
  const reply = REPLY_IN_TEXT.exec(message);
  if (reply !== null) return fromReplyCode(Number(reply[1]), undefined, message);
  for (const [pattern, code] of MESSAGE_PATTERNS) if (pattern.test(message)) return code;
  return undefined;
}

/**
 * AMQP reply codes. 403 and 406 depend on what failed: on `basic.publish` (class 60) they concern one
 * message; on a declaration or at login they are configuration errors.
 */
function fromReplyCode(code: number, classId: unknown, message: string): FerryErrorCode | undefined {
  const onPublish = classId === AMQP_CLASS_BASIC;
  const onDeclare = classId === 40 || classId === 50;
  switch (code) {
    case 200:
      return 'CONNECTION_LOST';
    case 311:
      return 'MESSAGE_TOO_LARGE';
    case 312:
    case 313:
      return 'RETURNED';
    case 320:
      return 'CONNECTION_FORCED';
    case 402:
    case 530:
      return 'NOT_ALLOWED';
    case 403:
      return onPublish ? 'WRITE_REFUSED' : 'ACCESS_REFUSED';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'RESOURCE_LOCKED';
    case 406:
      if (parseSizeRefusal(message) !== undefined) return 'MESSAGE_TOO_LARGE';
      return onDeclare ? 'TOPOLOGY_MISMATCH' : 'PRECONDITION_FAILED';
    case 541:
      return 'INTERNAL_ERROR';
    case 501:
    case 502:
    case 503:
    case 504:
    case 505:
    case 506:
    case 540:
      return 'PROTOCOL_ERROR';
    default:
      return undefined;
  }
}

/**
 * Keeps the AMQP reply code and the failed method, or the socket code, as plain data. A size refusal
 * closes the whole channel; its sizes let the runtime tell the oversized message from the others.
 */
function replyDetails(error: ErrorLike, message: string): { details?: ErrorDetails } {
  if (typeof error.code === 'number') {
    const details: Record<string, unknown> = { replyCode: error.code };
    if (typeof error.classId === 'number') details.classId = error.classId;
    if (typeof error.methodId === 'number') details.methodId = error.methodId;
    const tooLarge = parseSizeRefusal(message);
    if (tooLarge !== undefined) {
      details.messageSize = tooLarge.messageSize;
      details.maxMessageSize = tooLarge.maxMessageSize;
    }
    return { details };
  }
  if (typeof error.code === 'string') return { details: { errorCode: error.code } };
  const reply = REPLY_IN_TEXT.exec(message);
  return reply === null ? {} : { details: { replyCode: Number(reply[1]) } };
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
