/**
 * The mapping from everything amqplib, Node's sockets and TLS throw to a {@link FerryError}: AMQP reply
 * codes, socket and OpenSSL codes, and the exact texts amqplib uses for errors without a code. The
 * table of codes and what each means is in src/errors.ts.
 */
import { type ErrorDetails, FerryError, type FerryErrorCode } from '../errors.js';
import { parseSizeRefusal } from './size-refusal.js';

/**
 * Maps anything thrown or emitted by amqplib, Node's sockets or TLS to a FerryError; a FerryError is
 * returned as it is. `fallback` is the code for errors nothing here recognises (default `UNKNOWN`).
 */
export function fromAmqplib(error: unknown, fallback: FerryErrorCode = 'UNKNOWN'): FerryError {
  if (error instanceof FerryError) return error;
  if (typeof error !== 'object' || error === null) return new FerryError(fallback, String(error));
  const candidate: ErrorLike = error;
  const message = typeof candidate.message === 'string' ? candidate.message : String(error);
  return new FerryError(classify(candidate, message) ?? fallback, message, {
    cause: error,
    ...replyDetails(candidate, message),
  });
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
