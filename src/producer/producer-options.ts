/**
 * What `createProducer(options)` takes, grouped by concern and documented field by field so that each
 * option's meaning and default show on hover. The zod schema in options.ts validates exactly this shape
 * (a compile-time check there fails when the two drift apart); the defaults live in defaults.ts.
 */
import type { LookupFunction } from 'node:net';
import type { BackoffPolicy } from '../../machines/backoff.js';
import type { Topology } from '../amqp/topology.js';
import type { JournalConfig } from '../journal/journal-config.js';

/** TLS for `amqps://` URLs; `rejectUnauthorized` is `true` unless set. */
// A type rather than an interface: it is also handed on as a plain record of socket options.
export type ProducerTlsOptions = {
  /** CA certificate(s), PEM. */
  readonly ca?: Buffer | string | undefined;
  /** Client certificate, PEM (mutual TLS). */
  readonly cert?: Buffer | string | undefined;
  /** Client private key, PEM (mutual TLS). */
  readonly key?: Buffer | string | undefined;
  /** Passphrase of `key`. */
  readonly passphrase?: string | undefined;
  /** Verify the broker's certificate; `true` by default. */
  readonly rejectUnauthorized?: boolean | undefined;
  /** SNI and certificate host name; the URL's host by default when that is not an IP address. */
  readonly servername?: string | undefined;
};

/** A rolling failure-rate trip condition of the breaker, in addition to the consecutive-failure count. */
export interface BreakerFailureRate {
  /** The window the rate is computed over, ms. */
  readonly windowMs: number;
  /** How many buckets the window is split into. */
  readonly buckets: number;
  /** No trip with fewer outcomes than this in the window. */
  readonly minimumVolume: number;
  /** The failed fraction that trips the breaker, in (0, 1]. */
  readonly threshold: number;
}

/** The circuit breaker: it opens after repeated failures and lets one probe through after a cooldown. */
export interface BreakerOptions {
  /** Consecutive failures that open the breaker; 10 by default. */
  readonly failureThreshold?: number | undefined;
  /** How long the breaker stays open before letting one probe through, ms; 30,000 by default. */
  readonly cooldownMs?: number | undefined;
  /** Also open on a failure rate; `null` or absent: only consecutive failures count. */
  readonly failureRate?: BreakerFailureRate | null | undefined;
  /** Reject `publish()` with `BREAKER_OPEN` while the breaker is open instead of buffering; `false`. */
  readonly failFastWhenOpen?: boolean | undefined;
}

/** Catching unroutable messages with an alternate exchange instead of publishing `mandatory`. */
export interface UnroutableOptions {
  /** The alternate exchange a broker policy names on the exchanges ferry publishes to. */
  readonly alternateExchange: string;
  /** The queue bound to it, which ferry consumes. */
  readonly queue: string;
  /** How long a probe may take to come out of `queue`, ms; 5,000 by default. */
  readonly probeTimeoutMs?: number | undefined;
  /**
   * How often a proof is renewed, and how long an unproven exchange waits for its next probe, ms;
   * 60,000 by default: a policy removed while ferry runs is noticed within this.
   */
  readonly reprobeIntervalMs?: number | undefined;
}

/** A backoff policy where every field is optional; the unset ones keep their defaults. */
export type BackoffOptions = { readonly [K in keyof BackoffPolicy]?: BackoffPolicy[K] | undefined };

/** Reconnecting after a lost or refused connection. */
export interface ReconnectOptions extends BackoffOptions {
  /** Failed connects before the connection reports `failed` (it keeps trying at the max delay); 10. */
  readonly maxAttempts?: number | undefined;
}

/** The broker connection. */
export interface ConnectionOptions {
  /** The broker; `amqp://guest:guest@127.0.0.1:5672` by default. Give `url` or `urls`, not both. */
  readonly url?: string | undefined;
  /** Several brokers for failover, tried in turn starting after the one that failed last. */
  readonly urls?: readonly string[] | undefined;
  /** AMQP heartbeat interval asked of the broker, s; 60 by default, 0 disables heartbeats. */
  readonly heartbeatSeconds?: number | undefined;
  /** Bound on one URL's connection attempt (TCP, TLS, handshake, channel), ms; 10,000 by default. */
  readonly timeoutMs?: number | undefined;
  /** TLS for `amqps://` URLs; refused on `amqp://` URLs. */
  readonly tls?: ProducerTlsOptions | undefined;
  /** The connection's name as the broker shows it; `ferry` by default. */
  readonly clientName?: string | undefined;
  /**
   * Confirm channels to publish on, 1 to 32, all on the one connection; 1 by default. A message goes
   * on the channel its routing key hashes to, so messages with one routing key keep their order; each
   * channel has its own confirms, and a channel the broker closes takes only its own messages down
   * (retried as for any channel loss) and is reopened on its own. `publish.maxInFlight` stays the bound
   * over all of them. More channels pay only where one channel is the bottleneck: a broker with cores
   * to spare, several queues; see docs/scaling.md.
   */
  readonly channels?: number | undefined;
  /** A `dns.lookup`-compatible resolver for the broker's host name; Node's by default. */
  readonly lookup?: LookupFunction | undefined;
  /** Reconnect backoff and budget; 500 ms doubling to 32 s plus 0–30 % jitter, 10 attempts by default. */
  readonly reconnect?: ReconnectOptions | undefined;
  /** How often the connection's health is checked while connected, ms; 30,000 by default. */
  readonly healthCheckIntervalMs?: number | undefined;
  /**
   * The exchange the health check declares passively; the declared topology's first exchange by
   * default, `amq.topic` when nothing is declared.
   */
  readonly healthCheckExchange?: string | undefined;
}

/** What happens to a message whose write failed (nacked, returned, timed out, or on a lost channel). */
export interface RetryOptions extends BackoffOptions {
  /** Attempts per message, the first included, before it is dead-lettered; 3 by default. */
  readonly maxAttempts?: number | undefined;
  /** How often a parked message's dead-letter hand-off is tried again, ms; 60,000 by default. */
  readonly parkedDelayMs?: number | undefined;
  /** Retrying messages with a live actor at once; the rest wait in a backlog. 256 by default. */
  readonly maxLiveActors?: number | undefined;
}

/** The accept buffer: where accepted messages wait while nothing can be sent. */
export interface BufferOptions {
  /** Messages the buffer holds; 100,000 by default. */
  readonly maxMessages?: number | undefined;
  /** Bytes the buffer holds; 128 MiB by default. */
  readonly maxBytes?: number | undefined;
  /** How long `publish()` waits for room in a full buffer before rejecting `BUFFER_FULL`, ms; 30,000. */
  readonly timeoutMs?: number | undefined;
}

/** How each message is written to the broker. */
export interface PublishOptions {
  /** Messages written and not yet confirmed (what a dropped connection can duplicate); 10,000. */
  readonly maxInFlight?: number | undefined;
  /**
   * How long any write (first publish, retry, dead-letter hand-off) waits for the broker's confirm
   * before it counts as failed, ms; 5,000 by default.
   */
  readonly confirmTimeoutMs?: number | undefined;
  /** Bodies larger than this are rejected at `publish()` with `INVALID_MESSAGE`; 16 MiB by default. */
  readonly maxMessageBytes?: number | undefined;
  /**
   * AMQP `app_id` of every message (none by default: Celery and ferry need none). Worth setting when
   * several services publish to one exchange and operators want to tell their messages apart.
   */
  readonly appId?: string | undefined;
  /**
   * Set AMQP `timestamp` (acceptance time, whole seconds) on every message; off by default: ferry's
   * dead letters carry their own times in headers, and every byte of properties is work for the
   * broker (docs/benchmarks.md measured a 1 KiB workload slow down by a tenth with 20 bytes more).
   */
  readonly timestamp?: boolean | undefined;
}

/** The broker objects ferry declares and the exchanges it hands messages to. */
export interface DeclarationOptions {
  /**
   * What to declare on every connect, and again when a return or a 404 shows part of it missing:
   * `false` (the default) declares nothing, so the exchanges and queues you publish to, and the
   * dead-letter exchange, are yours to declare; a `Topology` declares it. The ML service's topology
   * (`bookmarkai.ml`, the `ml.*` queues, `bookmarkai.ml.dlx`) is `ML_TOPOLOGY` of `ferry/tasks`, or
   * all of the ML options at once with `mlProducerOptions()` there.
   */
  readonly declare?: false | Topology | undefined;
  /**
   * Where messages go once their attempts are spent; `bookmarkai.ml.dlx` by default. ferry declares
   * it only as part of `declare`: while it does not exist, such a message stays parked (journaled,
   * tried again every `retry.parkedDelayMs`, `status().healthy` false with `parkedReason`).
   */
  readonly deadLetterExchange?: string | undefined;
  /**
   * Catch unroutable messages with an alternate exchange instead of publishing every message
   * `mandatory`, which RabbitMQ charges for on every message. A broker policy must name
   * `alternateExchange` on the exchanges ferry publishes to; ferry declares the alternate exchange and
   * `queue` with `declare`'s topology (with `declare: false`, the default, they are yours to declare),
   * consumes `queue`, and leaves `mandatory` off for an exchange only once a probe proved the link on
   * the current connection: without them every message stays `mandatory`. See docs/reliability.md.
   */
  readonly unroutable?: UnroutableOptions | undefined;
}

/** Options of `createProducer`, grouped by concern; every field is optional and has a default. */
export interface ProducerOptions {
  /** The broker connection: where, how, and how to reconnect. */
  readonly connection?: ConnectionOptions | undefined;
  /** Retries of a message whose write failed, and its dead-letter hand-off. */
  readonly retry?: RetryOptions | undefined;
  /** The circuit breaker's thresholds, and whether `publish()` fails fast while it is open. */
  readonly breaker?: BreakerOptions | undefined;
  /** The accept buffer's limits. */
  readonly buffer?: BufferOptions | undefined;
  /** How each message is written: in-flight window, confirm timeout, size limit, properties. */
  readonly publish?: PublishOptions | undefined;
  /** What ferry declares, and where dead letters and unroutable messages go. */
  readonly topology?: DeclarationOptions | undefined;
  /** Where accepted messages are journaled; `{ kind: 'memory' }` (nothing survives a crash) by default. */
  readonly journal?: JournalConfig | undefined;
  /** How long `close()` waits for buffered and in-flight messages unless told otherwise, ms; 10,000. */
  readonly closeTimeoutMs?: number | undefined;
  /** Seeds every jitter source (journal it to replay the same delays); random by default. */
  readonly seed?: number | undefined;
}
