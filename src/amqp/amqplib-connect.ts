/**
 * From ferry's connect options to what amqplib's `connect` takes, and the bookkeeping of a failover
 * round over several URLs.
 *
 * @internal
 */
import type { SocketOptions as AmqplibSocketOptions } from 'amqplib';
import { FerryError, redactUrl } from '../errors.js';
import { fromAmqplib } from './amqplib-errors.js';
import type { AmqpConnectOptions } from './ports.js';

/** amqplib's socket options (Node's `tls` options plus its own) and `signal`, which amqplib hands to Node as is. */
type SocketOptions = AmqplibSocketOptions & { signal?: AbortSignal };

/** What one attempt passes to amqplib's `connect`. */
export interface ConnectTarget {
  /** For logs and `BrokerSession.endpoint`: the URL as given, password redacted. */
  readonly endpoint: string;
  /** The URL with `heartbeat` and `frameMax` set as query parameters, which is how amqplib reads them. */
  readonly url: string;
  readonly socketOptions: SocketOptions;
}

/** Rejects unusable options up front (`INVALID_OPTIONS`): retrying cannot fix them. */
export function validateConnectOptions(options: AmqpConnectOptions): void {
  const problems: string[] = [];
  if (options.urls.length === 0) problems.push('no broker URL given');
  for (const url of options.urls) {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      problems.push(`not a URL: ${redactUrl(url)}`);
      continue;
    }
    if (protocol !== 'amqp:' && protocol !== 'amqps:') {
      problems.push(`${redactUrl(url)}: the protocol must be amqp: or amqps:`);
    } else if (protocol === 'amqp:' && options.tls !== undefined) {
      problems.push(`${redactUrl(url)}: TLS options are given, so the URL must be amqps://`);
    }
  }
  if (!Number.isInteger(options.heartbeatSeconds) || options.heartbeatSeconds < 0) {
    problems.push(`heartbeatSeconds must be a whole number ≥ 0, got ${options.heartbeatSeconds}`);
  }
  if (!(options.connectionTimeoutMs > 0)) {
    problems.push(`connectionTimeoutMs must be > 0, got ${options.connectionTimeoutMs}`);
  }
  if (problems.length > 0) {
    throw new FerryError('INVALID_OPTIONS', problems.join('; '), { details: { problems } });
  }
}

/** The amqplib arguments for one URL; `signal` destroys the socket of an abandoned attempt. */
export function connectTarget(raw: string, options: AmqpConnectOptions, signal: AbortSignal): ConnectTarget {
  const url = new URL(raw);
  url.searchParams.set('heartbeat', String(options.heartbeatSeconds));
  if (options.frameMax !== undefined) url.searchParams.set('frameMax', String(options.frameMax));
  const socketOptions: SocketOptions = {
    // Without it a lone publish can sit in Nagle's buffer waiting for a delayed TCP ack.
    noDelay: true,
    clientProperties: { connection_name: options.clientName },
    // Node's net and tls sockets destroy themselves when this aborts, at any stage of the handshake.
    signal,
  };
  const { tls } = options;
  if (tls !== undefined) {
    socketOptions.rejectUnauthorized = tls.rejectUnauthorized;
    if (tls.ca !== undefined) socketOptions.ca = tls.ca;
    if (tls.cert !== undefined) socketOptions.cert = tls.cert;
    if (tls.key !== undefined) socketOptions.key = tls.key;
    if (tls.passphrase !== undefined) socketOptions.passphrase = tls.passphrase;
    if (tls.servername !== undefined) socketOptions.servername = tls.servername;
  }
  if (options.lookup !== undefined) socketOptions.lookup = options.lookup;
  return { endpoint: redactUrl(raw), url: url.toString(), socketOptions };
}

/** Puts the endpoint into an attempt's error, so that a failover round's report says which URL did what. */
export function attemptFailure(endpoint: string, error: unknown): FerryError {
  const failure = fromAmqplib(error);
  return new FerryError(failure.code, `${endpoint}: ${failure.message}`, {
    cause: error,
    details: { ...failure.details, endpoint },
  });
}

/**
 * One error for a failover round in which every URL failed: the code of the last transient failure (a
 * retry may reach that host), or of the last permanent one when all were permanent. The message names
 * every attempt in the order tried (each with its endpoint), so that a log line says which node did
 * what; the attempts are also in `details`.
 */
export function roundFailure(failures: readonly FerryError[]): FerryError {
  const chosen = failures.findLast((failure) => !failure.permanent) ?? failures.at(-1);
  if (chosen === undefined) return new FerryError('CLOSED', 'connect was aborted before any attempt');
  if (failures.length === 1) return chosen;
  const tried = failures.map((failure) => `${failure.code} ${failure.message}`).join('; ');
  return new FerryError(chosen.code, `all ${failures.length} broker URLs failed: ${tried}`, {
    cause: chosen,
    details: {
      ...chosen.details,
      attempts: failures.map((failure) => ({ code: failure.code, message: failure.message })),
    },
  });
}
