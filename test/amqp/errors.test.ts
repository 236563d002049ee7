import { describe, expect, it } from 'vitest';
import { toFailure } from '../../machines/failure.js';
import { fromAmqplib } from '../../src/amqp/amqplib-errors.js';
import { FERRY_ERROR_CODES, FerryError, type FerryErrorCode, redactUrl } from '../../src/errors.js';

/** Builds an error the way amqplib 2.3.1 does: a plain Error with fields assigned afterwards. */
function amqplibError(message: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), fields);
}

// Shapes observed against RabbitMQ 3.10.8 with amqplib 2.3.1 (see the integration tests for the live ones).
const cases: readonly (readonly [string, unknown, FerryErrorCode])[] = [
  [
    'bad credentials at login',
    amqplibError(
      'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile."',
    ),
    'ACCESS_REFUSED',
  ],
  [
    'no vhost access (530, code dropped by amqplib)',
    amqplibError('Expected ConnectionOpenOk; got <ConnectionClose channel:0>'),
    'NOT_ALLOWED',
  ],
  [
    'admin closed the connection',
    amqplibError('Connection closed: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - test"', {
      code: 320,
    }),
    'CONNECTION_FORCED',
  ],
  [
    'publish to a missing exchange',
    amqplibError(
      "Channel closed by server: 404 (NOT-FOUND) with message \"NOT_FOUND - no exchange 'x' in vhost '/'\"",
      { code: 404, classId: 60, methodId: 40 },
    ),
    'NOT_FOUND',
  ],
  [
    'queue redeclared with other arguments',
    amqplibError(
      "Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message \"PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'q' in vhost '/': received '6' but current is '5'\"",
      { code: 406, classId: 50, methodId: 10 },
    ),
    'TOPOLOGY_MISMATCH',
  ],
  [
    'exchange redeclared with another type',
    amqplibError('Operation failed: ExchangeDeclare; 406 (PRECONDITION-FAILED) with message "…"', {
      code: 406,
      classId: 40,
      methodId: 10,
    }),
    'TOPOLOGY_MISMATCH',
  ],
  [
    'message over max_message_size',
    amqplibError(
      'Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - message size 2048 is larger than configured max size 1024"',
      { code: 406, classId: 60, methodId: 40 },
    ),
    'MESSAGE_TOO_LARGE',
  ],
  [
    'message over the hard size cap',
    amqplibError(
      'Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - message size 600000000 is larger than max size 536870912"',
      { code: 406, classId: 60, methodId: 40 },
    ),
    'MESSAGE_TOO_LARGE',
  ],
  [
    '406 on publish for another reason',
    amqplibError('Channel closed by server: 406 (…)', { code: 406, classId: 60, methodId: 40 }),
    'PRECONDITION_FAILED',
  ],
  [
    'no write permission on publish',
    amqplibError('Channel closed by server: 403 (ACCESS-REFUSED) with message "…"', {
      code: 403,
      classId: 60,
      methodId: 40,
    }),
    'WRITE_REFUSED',
  ],
  [
    'no configure permission on declare',
    amqplibError('Operation failed: QueueDeclare; 403 (…)', { code: 403, classId: 50, methodId: 10 }),
    'ACCESS_REFUSED',
  ],
  [
    'exclusive queue of another connection',
    amqplibError('Operation failed: QueueDeclare; 405 (…)', { code: 405, classId: 50 }),
    'RESOURCE_LOCKED',
  ],
  [
    'vhost access at connection level',
    amqplibError('Connection closed: 530 (NOT-ALLOWED) …', { code: 530 }),
    'NOT_ALLOWED',
  ],
  [
    'immediate flag',
    amqplibError('Connection closed: 540 (NOT-IMPLEMENTED) …', { code: 540 }),
    'PROTOCOL_ERROR',
  ],
  ['broker bug', amqplibError('Connection closed: 541 (INTERNAL-ERROR) …', { code: 541 }), 'INTERNAL_ERROR'],
  [
    'connection refused',
    amqplibError('connect ECONNREFUSED 127.0.0.1:5999', {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
    }),
    'CONNECTION_REFUSED',
  ],
  [
    'DNS',
    amqplibError('getaddrinfo ENOTFOUND ferry.invalid', { code: 'ENOTFOUND', syscall: 'getaddrinfo' }),
    'DNS_FAILURE',
  ],
  ['DNS unavailable', amqplibError('getaddrinfo EAI_AGAIN rabbit', { code: 'EAI_AGAIN' }), 'DNS_FAILURE'],
  [
    'TCP connect timeout',
    amqplibError('connect ETIMEDOUT 10.0.0.1:5672', { code: 'ETIMEDOUT' }),
    'CONNECT_TIMEOUT',
  ],
  ["amqplib's socket timeout", amqplibError('connect ETIMEDOUT'), 'CONNECT_TIMEOUT'],
  ['reset', amqplibError('read ECONNRESET', { code: 'ECONNRESET' }), 'CONNECTION_LOST'],
  ['broken pipe', amqplibError('write EPIPE', { code: 'EPIPE' }), 'CONNECTION_LOST'],
  ['socket ended', amqplibError('Unexpected close'), 'CONNECTION_LOST'],
  [
    'ended during handshake',
    amqplibError('Socket closed abruptly during opening handshake'),
    'CONNECTION_LOST',
  ],
  ['heartbeat', amqplibError('Heartbeat timeout'), 'HEARTBEAT_TIMEOUT'],
  [
    'TLS to a plain port',
    amqplibError('801C…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number', {
      code: 'ERR_SSL_WRONG_VERSION_NUMBER',
      library: 'SSL routines',
    }),
    'TLS_ERROR',
  ],
  [
    'self-signed certificate',
    amqplibError('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
    'TLS_ERROR',
  ],
  ['expired certificate', amqplibError('certificate has expired', { code: 'CERT_HAS_EXPIRED' }), 'TLS_ERROR'],
  [
    'unknown CA',
    amqplibError('unable to verify the first certificate', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
    'TLS_ERROR',
  ],
  [
    'host name mismatch',
    amqplibError("Hostname/IP does not match certificate's altnames", {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    }),
    'TLS_ERROR',
  ],
  [
    'publish on a closed channel',
    Object.assign(new Error('Channel closed'), { name: 'IllegalOperationError' }),
    'CHANNEL_LOST',
  ],
  ['RPC on a dying channel', amqplibError('Channel ended, no reply will be forthcoming'), 'CHANNEL_LOST'],
  ['confirm callback after close', amqplibError('channel closed'), 'CHANNEL_LOST'],
  [
    'use after connection close',
    amqplibError('Connection closed (Error: Unexpected close)'),
    'CONNECTION_LOST',
  ],
  ['nack callback', amqplibError('message nacked'), 'NACKED'],
  ['not a buffer', new TypeError('content is not a buffer'), 'INVALID_MESSAGE'],
  [
    'aborted',
    Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' }),
    'CLOSED',
  ],
  ['something else', new Error('what'), 'UNKNOWN'],
  ['a string', 'plain text', 'UNKNOWN'],
  ['undefined', undefined, 'UNKNOWN'],
];

describe('FerryError.from', () => {
  it.each(cases)('%s', (_name, error, code) => {
    const mapped = fromAmqplib(error);
    expect(mapped.code).toBe(code);
    expect(mapped.severity).toBe(FERRY_ERROR_CODES[code].severity);
    expect(mapped.permanent).toBe(FERRY_ERROR_CODES[code].permanent);
    expect(mapped).toBeInstanceOf(Error);
    if (typeof error === 'object' && error !== null) expect(mapped.cause).toBe(error);
  });

  it('uses the fallback only for what it cannot recognise', () => {
    expect(fromAmqplib(new Error('what'), 'CHANNEL_LOST').code).toBe('CHANNEL_LOST');
    expect(fromAmqplib('text', 'NACKED').code).toBe('NACKED');
    expect(fromAmqplib(amqplibError('x', { code: 'ECONNREFUSED' }), 'CHANNEL_LOST').code).toBe(
      'CONNECTION_REFUSED',
    );
    expect(fromAmqplib(amqplibError('x', { code: 999 }), 'CHANNEL_LOST').code).toBe('CHANNEL_LOST');
  });

  it('returns a FerryError as it is', () => {
    const error = new FerryError('NACKED', 'nacked');
    expect(fromAmqplib(error, 'UNKNOWN')).toBe(error);
  });

  it('keeps the reply code and failed method as plain data', () => {
    const mapped = fromAmqplib(
      amqplibError('Channel closed by server: 404 …', { code: 404, classId: 60, methodId: 40 }),
    );
    expect(mapped.details).toEqual({ replyCode: 404, classId: 60, methodId: 40 });
    expect(
      fromAmqplib(amqplibError('Handshake terminated by server: 403 (ACCESS-REFUSED) …')).details,
    ).toEqual({
      replyCode: 403,
    });
  });

  it('keeps the sizes of a size refusal, to find the oversized message among those lost with the channel', () => {
    const mapped = fromAmqplib(
      amqplibError(
        'Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - message size 2048 is larger than configured max size 1024"',
        { code: 406, classId: 60, methodId: 40 },
      ),
    );
    expect(mapped.details).toMatchObject({ messageSize: 2048, maxMessageSize: 1024 });
  });

  it('satisfies the machines’ Failure shape', () => {
    const failure = toFailure(fromAmqplib(amqplibError('Heartbeat timeout')));
    expect(failure).toEqual({ code: 'HEARTBEAT_TIMEOUT', message: 'Heartbeat timeout', permanent: false });
    expect(
      toFailure(fromAmqplib(amqplibError('Expected ConnectionOpenOk; got <ConnectionClose channel:0>')))
        .permanent,
    ).toBe(true);
  });

  it('serialises to plain data with its message', () => {
    const error = new FerryError('NOT_FOUND', 'no exchange', { details: { replyCode: 404 } });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'FerryError',
      code: 'NOT_FOUND',
      message: 'no exchange',
      severity: 'reopen-channel',
      permanent: false,
      details: { replyCode: 404 },
    });
  });
});

describe('redaction', () => {
  it.each([
    ['amqp://user:pass@host:5672/vhost', 'amqp://user:***@host:5672/vhost'],
    ['amqps://user:p%40ss@host', 'amqps://user:***@host'],
    ['amqp://user:p@ss@host/v', 'amqp://user:***@host/v'],
    ['amqp://:secret@host', 'amqp://:***@host'],
    ['amqp://user@host', 'amqp://user@host'],
    ['amqp://host:5672', 'amqp://host:5672'],
  ])('%s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  it('redacts every URL in a message', () => {
    const error = new FerryError('CONNECTION_REFUSED', 'amqp://a:one@h1 failed, then amqp://b:two@h2 failed');
    expect(error.message).toBe('amqp://a:***@h1 failed, then amqp://b:***@h2 failed');
    expect(fromAmqplib(new Error('cannot reach amqp://guest:guest@rabbit:5672')).message).not.toContain(
      'guest@',
    );
  });
});

describe('the code table', () => {
  it('makes exactly the dead-letter and fatal codes, and the unfixable caller errors, permanent', () => {
    for (const [code, { severity, permanent }] of Object.entries(FERRY_ERROR_CODES)) {
      const expected =
        severity === 'dead-letter' ||
        severity === 'fatal' ||
        ['INVALID_MESSAGE', 'INVALID_OPTIONS', 'CLOSED'].includes(code);
      expect([code, permanent]).toEqual([code, expected]);
    }
  });
});
