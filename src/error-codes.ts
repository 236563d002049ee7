/**
 * ferry's error codes, each with its severity and what it means for the caller: the one source of the
 * `FerryErrorCode` union, of `FerryError`'s `severity` and `permanent`, and of docs/errors.md.
 */

/** What happens after an error, in one word. */
export type Severity = 'caller' | 'retry' | 'reopen-channel' | 'reconnect' | 'dead-letter' | 'fatal';

/** How a code is handled, and what it means for the caller: the rows of docs/errors.md. */
export interface ErrorCodeInfo {
  /** What happens next, in one word. */
  readonly severity: Severity;
  /** Retrying the same thing cannot help. */
  readonly permanent: boolean;
  /** What went wrong. */
  readonly meaning: string;
  /** What ferry does about it. */
  readonly ferryDoes: string;
  /** What the caller (or the operator) should do. */
  readonly youShould: string;
}

const info = (
  severity: Severity,
  permanent: boolean,
  text: Pick<ErrorCodeInfo, 'meaning' | 'ferryDoes' | 'youShould'>,
): ErrorCodeInfo => ({ severity, permanent, ...text });

/**
 * Every error code with its severity, meaning, what ferry does and what the caller should do;
 * docs/errors.md is generated from it (`npm run docs:errors`).
 */
export const FERRY_ERROR_CODES = {
  /** A payload that cannot be encoded (not JSON-serialisable, a bad header value) or a body over `publish.maxMessageBytes`. */
  INVALID_MESSAGE: info('caller', true, {
    meaning:
      'A payload that cannot be encoded (not JSON-serialisable, a bad header value) or a body over `publish.maxMessageBytes`.',
    ferryDoes: 'Rejects `publish()`; nothing is accepted.',
    youShould: 'Fix the message; retrying the same one fails the same way.',
  }),
  /** Bad configuration: no URL, an unknown protocol, TLS options on `amqp://`, a value out of range (every problem is listed). */
  INVALID_OPTIONS: info('caller', true, {
    meaning:
      'Bad configuration: no URL, an unknown protocol, TLS options on `amqp://`, a value out of range (every problem is listed).',
    ferryDoes: 'Throws from `createProducer()`.',
    youShould: 'Fix the options.',
  }),
  /** The bounded accept buffer (`buffer.maxMessages`, `buffer.maxBytes`) stayed full for `buffer.timeoutMs`. */
  BUFFER_FULL: info('caller', false, {
    meaning:
      'The bounded accept buffer (`buffer.maxMessages`, `buffer.maxBytes`) stayed full for `buffer.timeoutMs`.',
    ferryDoes: 'Rejects `publish()`; nothing is accepted.',
    youShould: 'Slow down or try later; the broker is unreachable, blocked or slower than you publish.',
  }),
  /** The producer is closed or closing, or the operation was aborted. */
  CLOSED: info('caller', true, {
    meaning: 'The producer is closed or closing, or the operation was aborted.',
    ferryDoes:
      'Rejects the call; a receipt whose message had not settled rejects with it (the message stays journaled).',
    youShould: 'Nothing, on shutdown; a later producer on the same journal finishes the message.',
  }),
  /** The circuit breaker is open and `breaker.failFastWhenOpen` is set. */
  BREAKER_OPEN: info('caller', false, {
    meaning: 'The circuit breaker is open and `breaker.failFastWhenOpen` is set.',
    ferryDoes: 'Rejects `publish()`; nothing is accepted.',
    youShould: 'Try later, or leave `breaker.failFastWhenOpen` off to buffer instead.',
  }),
  /** The broker answered `basic.nack` (a full `reject-publish` queue, a queue process error). */
  NACKED: info('retry', false, {
    meaning: 'The broker answered `basic.nack` (a full `reject-publish` queue, a queue process error).',
    ferryDoes: 'Retries the message with backoff, then dead-letters it.',
    youShould: 'Nothing; watch queue capacity if it persists.',
  }),
  /** No ack or nack within `publish.confirmTimeoutMs`. */
  CONFIRM_TIMEOUT: info('retry', false, {
    meaning: 'No ack or nack within `publish.confirmTimeoutMs`.',
    ferryDoes:
      'Republishes with the same message id (the first copy may have arrived: a possible duplicate).',
    youShould: 'Consumers dedupe on the message id.',
  }),
  /** The confirm channel closed with confirms pending. */
  CHANNEL_LOST: info('retry', false, {
    meaning: 'The confirm channel closed with confirms pending.',
    ferryDoes: 'Reopens the channel and republishes the unconfirmed messages (possible duplicates).',
    youShould: 'Nothing; consumers dedupe on the message id.',
  }),
  /** The socket was reset or closed (`ECONNRESET`, `EPIPE`, "Unexpected close"). */
  CONNECTION_LOST: info('retry', false, {
    meaning: 'The socket was reset or closed (`ECONNRESET`, `EPIPE`, "Unexpected close").',
    ferryDoes: 'Reconnects and republishes the unconfirmed messages without using up an attempt.',
    youShould: 'Nothing; consumers dedupe on the message id.',
  }),
  /** `basic.return` 312 NO_ROUTE: no queue is bound for the routing key. */
  RETURNED: info('retry', false, {
    meaning: '`basic.return` 312 NO_ROUTE: no queue is bound for the routing key.',
    ferryDoes: 'Declares the topology again, retries, then dead-letters.',
    youShould: 'Check the routing key and the bindings.',
  }),
  /** Anything ferry does not recognise. */
  UNKNOWN: info('retry', false, {
    meaning: 'Anything ferry does not recognise.',
    ferryDoes: 'Retries: an unknown error never drops a message.',
    youShould: 'Report it if it recurs: it deserves a code of its own.',
  }),
  /** 404: the exchange does not exist (the broker closes the channel). */
  NOT_FOUND: info('reopen-channel', false, {
    meaning: '404: the exchange does not exist (the broker closes the channel).',
    ferryDoes:
      'Declares its topology again (when `topology.declare` gives one), reopens the channel and republishes its pending messages.',
    youShould:
      'With nothing declared (`topology.declare: false`, the default), declare the exchange yourself.',
  }),
  /** 406 on publish, other than the size limit. */
  PRECONDITION_FAILED: info('reopen-channel', false, {
    meaning: '406 on publish, other than the size limit.',
    ferryDoes: 'Reopens the channel and republishes its pending messages.',
    youShould: "Check the message properties against the queue's arguments.",
  }),
  /** 405: an exclusive queue of another connection. */
  RESOURCE_LOCKED: info('reopen-channel', false, {
    meaning: '405: an exclusive queue of another connection.',
    ferryDoes: 'Reopens the channel.',
    youShould: 'Check which connection owns the queue.',
  }),
  /** 320: `rabbitmqctl close_connection`, a broker shutdown or restart. */
  CONNECTION_FORCED: info('reconnect', false, {
    meaning: '320: `rabbitmqctl close_connection`, a broker shutdown or restart.',
    ferryDoes: 'Reconnects with backoff; messages wait in the buffer.',
    youShould: 'Nothing, unless it repeats.',
  }),
  /** `ECONNREFUSED`, `EHOSTUNREACH`, `ENETUNREACH`: nothing listens there. */
  CONNECTION_REFUSED: info('reconnect', false, {
    meaning: '`ECONNREFUSED`, `EHOSTUNREACH`, `ENETUNREACH`: nothing listens there.',
    ferryDoes: 'Reconnects with backoff, trying the next URL first.',
    youShould: "Check the broker is up and the URL's host and port.",
  }),
  /** `ENOTFOUND`, `EAI_AGAIN`: the host name does not resolve. */
  DNS_FAILURE: info('reconnect', false, {
    meaning: '`ENOTFOUND`, `EAI_AGAIN`: the host name does not resolve.',
    ferryDoes: 'Reconnects with backoff.',
    youShould: 'Check the host name and DNS.',
  }),
  /** `ETIMEDOUT`, or an attempt over `connectionTimeoutMs`. */
  CONNECT_TIMEOUT: info('reconnect', false, {
    meaning: '`ETIMEDOUT`, or an attempt over `connectionTimeoutMs`.',
    ferryDoes: 'Reconnects with backoff.',
    youShould: 'Check the network path to the broker.',
  }),
  /** Two heartbeat intervals without a frame from the broker. */
  HEARTBEAT_TIMEOUT: info('reconnect', false, {
    meaning: 'Two heartbeat intervals without a frame from the broker.',
    ferryDoes: 'Reconnects with backoff and republishes the unconfirmed messages.',
    youShould: 'Check the network; raise `connection.heartbeatSeconds` on a slow link.',
  }),
  /** 541: the broker failed internally. */
  INTERNAL_ERROR: info('reconnect', false, {
    meaning: '541: the broker failed internally.',
    ferryDoes: 'Reconnects with backoff.',
    youShould: "Check the broker's logs.",
  }),
  /** 501–506, 540: a frame the peer did not accept. */
  PROTOCOL_ERROR: info('reconnect', false, {
    meaning: '501–506, 540: a frame the peer did not accept.',
    ferryDoes: 'Reconnects with backoff.',
    youShould: 'Report it: it is a bug in ferry or the broker.',
  }),
  /** The broker did not answer the periodic health check. */
  HEALTH_CHECK_TIMEOUT: info('reconnect', false, {
    meaning: 'The broker did not answer the periodic health check.',
    ferryDoes: 'Reconnects with backoff.',
    youShould: "Check the broker's load.",
  }),
  /** 406 "message size N is larger than configured max size M", or a message over the limit ferry learned from one. */
  MESSAGE_TOO_LARGE: info('dead-letter', true, {
    meaning:
      '406 "message size N is larger than configured max size M", or a message over the limit ferry learned from one.',
    ferryDoes:
      'Dead-letters that message (parks it while the hand-off is too large as well); republishes the others on the channel.',
    youShould:
      "Send smaller bodies, or set `publish.maxMessageBytes` to the broker's limit to be refused at `publish()`.",
  }),
  /** 403 on `basic.publish`: the user may not write to the exchange. */
  WRITE_REFUSED: info('dead-letter', true, {
    meaning: '403 on `basic.publish`: the user may not write to the exchange.',
    ferryDoes: 'Dead-letters the message.',
    youShould: 'Grant the user write permission on the exchange.',
  }),
  /** 403 at login (bad credentials) or on a declaration. */
  ACCESS_REFUSED: info('fatal', true, {
    meaning: '403 at login (bad credentials) or on a declaration.',
    ferryDoes: 'Keeps the messages and keeps trying at the maximum delay (no hot loop); `start()` rejects.',
    youShould: 'Fix the credentials or permissions.',
  }),
  /** 530 or 402: no access to the vhost, or no such vhost. */
  NOT_ALLOWED: info('fatal', true, {
    meaning: '530 or 402: no access to the vhost, or no such vhost.',
    ferryDoes: 'Keeps the messages and keeps trying at the maximum delay; `start()` rejects.',
    youShould: "Fix the vhost or the user's access to it.",
  }),
  /** 406 on a declaration: the exchange or queue exists with other arguments. */
  TOPOLOGY_MISMATCH: info('fatal', true, {
    meaning: '406 on a declaration: the exchange or queue exists with other arguments.',
    ferryDoes: 'Keeps the messages and keeps trying at the maximum delay; `start()` rejects.',
    youShould: "Make the declared topology match the broker's, or delete the old object.",
  }),
  /** A certificate, handshake or protocol-version error. */
  TLS_ERROR: info('fatal', true, {
    meaning: 'A certificate, handshake or protocol-version error.',
    ferryDoes: 'Keeps the messages and keeps trying at the maximum delay; `start()` rejects.',
    youShould: 'Fix the certificates or the `tls` options.',
  }),
} as const satisfies Record<string, ErrorCodeInfo>;

/**
 * A machine-readable error code: switch over it exhaustively. Each code's meaning, severity, what ferry
 * does and what you should do: docs/errors.md (in the package), or hover a key of
 * {@link FERRY_ERROR_CODES}.
 *
 * - `caller` (rejected to you): `INVALID_MESSAGE`, `INVALID_OPTIONS`, `BUFFER_FULL`, `CLOSED`, `BREAKER_OPEN`
 * - `retry` (the message is retried): `NACKED`, `CONFIRM_TIMEOUT`, `CHANNEL_LOST`, `CONNECTION_LOST`,
 *   `RETURNED`, `UNKNOWN`
 * - `reopen-channel`: `NOT_FOUND`, `PRECONDITION_FAILED`, `RESOURCE_LOCKED`
 * - `reconnect`: `CONNECTION_FORCED`, `CONNECTION_REFUSED`, `DNS_FAILURE`, `CONNECT_TIMEOUT`,
 *   `HEARTBEAT_TIMEOUT`, `INTERNAL_ERROR`, `PROTOCOL_ERROR`, `HEALTH_CHECK_TIMEOUT`
 * - `dead-letter` (that message is dead-lettered): `MESSAGE_TOO_LARGE`, `WRITE_REFUSED`
 * - `fatal` (configuration; retried at the maximum delay): `ACCESS_REFUSED`, `NOT_ALLOWED`,
 *   `TOPOLOGY_MISMATCH`, `TLS_ERROR`
 */
export type FerryErrorCode = keyof typeof FERRY_ERROR_CODES;

/** `code` when it is one of ferry's error codes, else `UNKNOWN` (machines carry codes as plain strings). */
export function ferryErrorCode(code: string): FerryErrorCode {
  return Object.hasOwn(FERRY_ERROR_CODES, code) ? (code as FerryErrorCode) : 'UNKNOWN';
}
