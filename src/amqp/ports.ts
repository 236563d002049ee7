/**
 * The narrow interfaces between ferry's runtime and an AMQP client. The amqplib adapter implements
 * them (amqplib-session.ts); tests fake them.
 */
import type { LookupFunction } from 'node:net';
import type { FerryError } from '../errors.js';
import type { Topology } from './topology.js';

/** TLS settings for `amqps://` URLs (`RABBITMQ_SSL_*`, `RABBITMQ_VERIFY_PEER`). */
export interface TlsOptions {
  readonly ca?: Buffer | string;
  readonly cert?: Buffer | string;
  readonly key?: Buffer | string;
  readonly passphrase?: string;
  readonly rejectUnauthorized: boolean;
  /** SNI and certificate host name; defaults to the URL's host when that is not an IP address. */
  readonly servername?: string;
}

/** How to reach the broker. */
export interface AmqpConnectOptions {
  /**
   * The broker's nodes (multi-host failover). Each round tries every URL once: the first round from a
   * URL drawn from `seed`, later ones from where the last round connected, or from the URL after a
   * node that failed or whose session was lost.
   */
  readonly urls: readonly string[];
  /** Draws the first round's URL, so that instances spread over the nodes; the time when omitted. */
  readonly seed?: number;
  /** Heartbeat interval asked of the broker (`RABBITMQ_HEARTBEAT`); 0 disables heartbeats. */
  readonly heartbeatSeconds: number;
  /** Bound on one URL's attempt: TCP, TLS, AMQP handshake and opening the confirm channels. */
  readonly connectionTimeoutMs: number;
  /** Required for `amqps://` URLs that need anything but the system CAs; refused on `amqp://` URLs. */
  readonly tls?: TlsOptions;
  /** Shown by the broker as the connection's name (`connection_name` client property). */
  readonly clientName: string;
  readonly frameMax?: number;
  /** How host names are resolved; Node's `dns.lookup` by default (service discovery, tests). */
  readonly lookup?: LookupFunction;
  /**
   * Confirm channels to open on the connection (the `channels` option); 1 when omitted. The first is
   * the session's own, the others are its {@link BrokerSession.pool}.
   */
  readonly channels?: number;
}

/** Message properties ferry sets on a publish; the names are AMQP's `basic.properties`. */
export interface PublishProperties {
  readonly messageId?: string;
  readonly correlationId?: string;
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly headers?: Readonly<Record<string, unknown>>;
  /** Whole seconds since the epoch (AMQP's unit; a fraction is refused as `INVALID_MESSAGE`). */
  readonly timestamp?: number;
  /** `true`: delivery mode 2, written to disk by durable queues. */
  readonly persistent?: boolean;
  /** Per-message TTL in milliseconds. */
  readonly expiration?: number;
  readonly priority?: number;
  readonly type?: string;
  readonly appId?: string;
}

/** A message consumed from a queue: where it was published to, and what. */
export interface Delivery {
  /** The exchange it was published to (for a message an alternate exchange caught: the original one). */
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly properties: PublishProperties;
}

/** Opens sessions. One call makes one session, trying each URL at most once. */
export interface BrokerPort {
  /**
   * Connects and opens its confirm channels (`options.channels`). Rejects with a {@link FerryError}; when every URL failed,
   * with the last transient failure, or the last permanent one when all were permanent. An aborted
   * `signal` rejects at once and closes whatever was opened.
   */
  connect(options: AmqpConnectOptions, signal: AbortSignal): Promise<BrokerSession>;
}

/** One confirm channel: its publishes are numbered 1, 2, 3, … from its opening, and confirmed by tag. */
export interface ConfirmChannelPort {
  /**
   * Publishes on the confirm channel. With `mandatory`, an unroutable message comes back as
   * `returned`; without it, the broker drops it unless the exchange has an alternate exchange. Returns
   * `false` when the channel's write buffer is full: the message is sent, but wait for `drain` before
   * the next. Throws a {@link FerryError} (`CHANNEL_LOST`, `CONNECTION_LOST`, `INVALID_MESSAGE`) when
   * nothing was sent; then no delivery tag is used up.
   */
  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    properties: PublishProperties,
    mandatory: boolean,
  ): boolean;
  /** The delivery tag the next successful publish gets: publishes since the channel opened, plus 1. */
  readonly nextDeliveryTag: number;
  /**
   * After `channelClosed`: opens a new confirm channel on the same connection; tags restart at 1.
   * On a live channel it abandons that one: its late confirms are ignored.
   */
  reopenChannel(): Promise<void>;
}

/**
 * A further confirm channel of a session (the channel pool): its own tags and confirms, closed with
 * the session's connection. The connection's death is reported by the session only.
 */
export interface ConfirmLane extends ConfirmChannelPort {
  /** Where this channel's events go; a close that happened before is delivered when it is set. */
  setListener(listener: LaneListener): void;
}

/** One live connection with its confirm channel (and, with `channels` above 1, a pool of more). */
export interface BrokerSession extends ConfirmChannelPort {
  /** The URL actually connected to, without its password. */
  readonly endpoint: string;
  /**
   * The confirm channels beyond the session's own that {@link AmqpConnectOptions.channels} asked for,
   * all on this connection. An adapter without it publishes on one channel whatever was asked.
   */
  readonly pool?: readonly ConfirmLane[];
  /**
   * Publishes one message on the declaration channel, without confirm or `mandatory`: for probes whose
   * arrival is observed elsewhere. Rejects when the channel cannot be opened.
   */
  publishUnconfirmed(
    exchange: string,
    routingKey: string,
    content: Buffer,
    properties: PublishProperties,
  ): Promise<void>;
  /**
   * Consumes `queue` on a channel of its own, with manual acks: each delivery is acked once
   * `onDelivery` resolves and requeued when it rejects. Resolves once the consumer is registered.
   * `onEnd` is told once when the consumer ends other than by this session's close or destroy (the
   * queue was deleted, the channel closed).
   */
  consume(
    queue: string,
    onDelivery: (delivery: Delivery) => Promise<void>,
    onEnd: (error: FerryError) => void,
  ): Promise<void>;
  /** Health check: rejects with `NOT_FOUND` when the exchange is missing. Never touches the confirm channel. */
  checkExchange(name: string): Promise<void>;
  /** Declares exchanges, queues and bindings; a 406 rejects with `TOPOLOGY_MISMATCH` naming the object. */
  declare(topology: Topology): Promise<void>;
  /** Graceful close; the listener hears nothing more. Pending confirms are not awaited. */
  close(): Promise<void>;
  /** Drops the socket now; idempotent; the listener hears nothing more. */
  destroy(): void;
  /**
   * Where events go. A close or `blocked` that happened before a listener was set is delivered when
   * it is set. Listener methods must not throw: amqplib would tear the connection down.
   */
  setListener(listener: SessionListener): void;
}

/** Events of one confirm channel, straight from the broker. */
export interface LaneListener {
  ack(tag: number, multiple: boolean): void;
  nack(tag: number, multiple: boolean): void;
  /** `basic.return`: arrives before the ack of the same message. */
  returned(messageId: string | undefined, replyCode: number, replyText: string): void;
  /** The channel's write buffer has room again after `publish` returned `false`. */
  drain(): void;
  /** The confirm channel died, the connection is alive: its pending confirms are lost; reopen it. */
  channelClosed(error: FerryError): void;
}

/** Events of a session: its own confirm channel's, and the connection's. */
export interface SessionListener extends LaneListener {
  /** `connection.blocked`: the broker stopped reading (resource alarm). */
  blocked(reason: string): void;
  unblocked(): void;
  /** The connection died (or its channel with it): everything pending is lost; reconnect. */
  connectionClosed(error: FerryError): void;
}
