/**
 * The amqplib 2.x adapter behind {@link BrokerPort}: one connection, one confirm channel for
 * publishing and, opened on first use, one plain channel for declarations and health checks, so that
 * a 404 from `checkExchange` or a 406 from a declaration never kills the confirm channel.
 *
 * Confirms arrive through the channel's `ack`/`nack` events; `publish` passes no callback, so the hot
 * path allocates no closure per message. amqplib does not report delivery tags, so the session counts
 * publishes since its confirm channel opened.
 */
import {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  connect,
  type Message,
  type Options,
} from 'amqplib';
import { defined } from '../defined.js';
import { FerryError } from '../errors.js';
import { attemptFailure, connectTarget, roundFailure, validateConnectOptions } from './amqplib-connect.js';
import { declareTopology } from './declare.js';
import {
  afterConnected,
  afterFailed,
  firstRotation,
  type NodeRotation,
  roundOrder,
} from './node-rotation.js';
import type {
  AmqpConnectOptions,
  BrokerPort,
  BrokerSession,
  Delivery,
  PublishProperties,
  SessionListener,
} from './ports.js';
import type { Topology } from './topology.js';

/**
 * A broker port backed by amqplib, with multi-host failover across `options.urls`: each round tries
 * every URL once, in the order {@link roundOrder} gives (a seeded start, a failed node last).
 */
export function createAmqplibBroker(): BrokerPort {
  let rotation: NodeRotation | undefined;
  // The session handed out last and its URL: lost rather than closed by its owner, its node failed.
  let last: { readonly index: number; readonly session: AmqplibSession } | undefined;
  return {
    async connect(options, signal) {
      validateConnectOptions(options);
      const count = options.urls.length;
      if (rotation?.count !== count) rotation = firstRotation(count, options.seed ?? Date.now());
      if (last !== undefined && !last.session.closedByOwner) rotation = afterFailed(rotation, last.index);
      last = undefined;
      const failures: FerryError[] = [];
      for (const index of roundOrder(rotation)) {
        if (signal.aborted) break;
        try {
          const session = await openSession(options.urls[index]!, options, signal);
          rotation = afterConnected(rotation, index);
          last = { index, session };
          return session;
        } catch (error) {
          failures.push(error as FerryError);
          rotation = afterFailed(rotation, index);
        }
      }
      throw signal.aborted ? new FerryError('CLOSED', 'connect was aborted') : roundFailure(failures);
    },
  };
}

/** One URL: connection and confirm channel within `connectionTimeoutMs`, or nothing left open. */
async function openSession(
  raw: string,
  options: AmqpConnectOptions,
  outer: AbortSignal,
): Promise<AmqplibSession> {
  const attempt = new AbortController();
  const target = connectTarget(raw, options, attempt.signal);
  const timer = setTimeout(() => {
    const limit = options.connectionTimeoutMs;
    attempt.abort(new FerryError('CONNECT_TIMEOUT', `no session within ${limit} ms`));
  }, options.connectionTimeoutMs);
  const onAbort = () => attempt.abort(new FerryError('CLOSED', 'connect was aborted'));
  if (outer.aborted) onAbort();
  else outer.addEventListener('abort', onAbort, { once: true });
  let session: AmqplibSession | undefined;
  try {
    session = new AmqplibSession(await connect(target.url, target.socketOptions), target.endpoint);
    await session.reopenChannel();
    return session;
  } catch (error) {
    // Aborting destroyed the socket; the error amqplib saw says less than the reason.
    session?.destroy();
    throw attemptFailure(target.endpoint, attempt.signal.aborted ? attempt.signal.reason : error);
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', onAbort);
  }
}

/**
 * amqplib's options for one publish. Every field is always present (undefined ones are skipped by
 * amqplib's encoder), so the object has one shape: measured here, `{ ...properties, mandatory: true }`
 * cost 2–8 µs more per publish than this literal.
 */
function publishOptions(properties: PublishProperties, mandatory: boolean): Options.Publish {
  return {
    mandatory,
    persistent: properties.persistent,
    messageId: properties.messageId,
    correlationId: properties.correlationId,
    contentType: properties.contentType,
    contentEncoding: properties.contentEncoding,
    headers: properties.headers,
    timestamp: properties.timestamp,
    expiration: properties.expiration,
    priority: properties.priority,
    type: properties.type,
    appId: properties.appId,
  } as Options.Publish;
}

/**
 * amqplib's `Channel#publish`, beneath `ConfirmChannel#publish`. The confirm channel's override only
 * queues the callback for the delivery tag (`false` when there is none) and splices that queue on every
 * ack, about 2 µs per message here; ferry passes no callback and counts delivery tags itself (the
 * confirm tracker), so it calls the plain publish on its confirm channel. The channel is still in
 * confirm mode: the broker acks every publish, and amqplib still emits `ack` and `nack`.
 */
function untrackedPublish(channel: ConfirmChannel): ConfirmChannel['publish'] {
  const confirmProto = Object.getPrototypeOf(channel) as object;
  const base = (Object.getPrototypeOf(confirmProto) as { publish?: unknown } | null)?.publish;
  return typeof base === 'function' ? (base as ConfirmChannel['publish']) : channel.publish;
}

/** Unacknowledged deliveries a consumer holds at once: enough to keep it busy, few to hand back. */
const CONSUMER_PREFETCH = 64;

/** A consumed message in the port's terms; amqplib's properties carry `deliveryMode`, not `persistent`. */
function toDelivery(message: Message): Delivery {
  const { properties } = message;
  return {
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
    content: message.content,
    properties: defined({
      messageId: properties.messageId,
      correlationId: properties.correlationId,
      contentType: properties.contentType,
      contentEncoding: properties.contentEncoding,
      headers: properties.headers,
      timestamp: properties.timestamp,
      persistent: properties.deliveryMode === 2 ? true : undefined,
      expiration: properties.expiration === undefined ? undefined : Number(properties.expiration),
      priority: properties.priority,
      type: properties.type,
      appId: properties.appId,
    }),
  };
}

/** amqplib 2.3.1 internals: the ChannelModel's Connection, its socket and its muxer. */
interface ModelInternals {
  readonly connection: {
    readonly stream: { destroy(error?: Error): void; cork?(): void; uncork?(): void };
    /** Moves queued frames from the channels' write buffers to the socket, one `write` per frame. */
    readonly muxer?: { _readIncoming?: () => void };
  };
}

/**
 * amqplib's muxer writes each queued frame with its own `socket.write`: a syscall and a TCP segment
 * per message. On loopback, where the broker's receive path runs inside the sender's syscall, that
 * was ≈4 µs of CPU per message in the bench's profile. Corking the socket around each pass makes a
 * pass one `writev`. It must be every pass, not just the turn a message is published in: a corked
 * socket fills its write buffer (16 KiB on Node 20: about fifteen 1 KiB frames), the muxer stops
 * until `drain`, and the passes after `drain` write the rest. Left as amqplib does it when its
 * internals are not the ones this adapter knows.
 */
function writeEachPassAtOnce(model: ChannelModel): void {
  const { stream: socket, muxer } = (model as unknown as ModelInternals).connection;
  const pass = muxer?._readIncoming;
  const { cork, uncork } = socket;
  if (muxer === undefined || pass === undefined || cork === undefined || uncork === undefined) return;
  muxer._readIncoming = () => {
    cork.call(socket);
    try {
      pass.call(muxer);
    } finally {
      uncork.call(socket);
    }
  };
}

/** amqplib 2.3.1 internals: a channel's number and the connection's per-channel write buffers. */
interface ChannelInternals {
  readonly ch?: number;
  readonly connection?: { readonly channels?: readonly ({ readonly buffer?: WriteQueue } | null)[] };
}

/** The stream amqplib queues a channel's frames in, which its muxer reads into the socket. */
interface WriteQueue {
  readonly readableEnded: boolean;
  once(event: 'end' | 'close', listener: () => void): unknown;
}

/** The write buffer of `channel`, when amqplib's internals are the ones this adapter knows. */
function writeQueueOf(channel: ConfirmChannel): WriteQueue | undefined {
  const internals = channel as unknown as ChannelInternals;
  const buffer =
    internals.ch === undefined ? undefined : internals.connection?.channels?.[internals.ch]?.buffer;
  return typeof buffer?.once === 'function' ? buffer : undefined;
}

/** A return's fields; amqplib's `MessageFields` type describes deliveries only. */
interface ReturnFields {
  readonly replyCode: number;
  readonly replyText: string;
}

class AmqplibSession implements BrokerSession {
  readonly endpoint: string;
  private readonly model: ChannelModel;
  private channel: ConfirmChannel | undefined;
  /** The current channel's publish without amqplib's callback queue; see {@link untrackedPublish}. */
  private publishOn: ConfirmChannel['publish'] = () => false;
  private rpcChannel: Promise<Channel> | undefined;
  /** The confirm channel's write buffer in amqplib, kept to know when a closed channel's frames are out. */
  private writeQueue: WriteQueue | undefined;
  private tag = 1;
  private listener: SessionListener | undefined;
  /** `close`/`destroy` was called or the connection died: nothing more is reported. */
  private ended = false;
  /** `close` was called: the session ended because its owner chose to, not because its node failed. */
  private ownerClosed = false;
  /** A close that happened while no listener was set, delivered by `setListener`. */
  private undelivered: ((listener: SessionListener) => void) | undefined;
  private blockedReason: string | undefined;
  private readonly closed: Promise<void>;

  constructor(model: ChannelModel, endpoint: string) {
    this.model = model;
    this.endpoint = endpoint;
    writeEachPassAtOnce(model);
    // Needed: amqplib throws an 'error' nobody listens to. The 'close' that follows carries it too.
    model.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      model.on('close', (error?: Error) => {
        resolve();
        this.onConnectionClose(error);
      });
    });
    model.on('blocked', (reason: string) => {
      this.blockedReason = reason;
      this.listener?.blocked(reason);
    });
    model.on('unblocked', () => {
      this.blockedReason = undefined;
      this.listener?.unblocked();
    });
  }

  /** Whether `close` (not `destroy`, not the broker or the network) ended the session. */
  get closedByOwner(): boolean {
    return this.ownerClosed;
  }

  get nextDeliveryTag(): number {
    return this.tag;
  }

  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    properties: PublishProperties,
    mandatory: boolean,
  ): boolean {
    const channel = this.channel;
    if (channel === undefined) throw new FerryError('CHANNEL_LOST', 'the confirm channel is being reopened');
    let written: boolean;
    try {
      written = this.publishOn.call(
        channel,
        exchange,
        routingKey,
        content,
        publishOptions(properties, mandatory),
      );
    } catch (error) {
      // amqplib encodes everything before writing: a throw means nothing was sent.
      throw FerryError.from(error, 'INVALID_MESSAGE');
    }
    this.tag += 1;
    return written;
  }

  async publishUnconfirmed(
    exchange: string,
    routingKey: string,
    content: Buffer,
    properties: PublishProperties,
  ): Promise<void> {
    try {
      (await this.rpc()).publish(exchange, routingKey, content, publishOptions(properties, false));
    } catch (error) {
      throw FerryError.from(error, 'CHANNEL_LOST');
    }
  }

  async consume(
    queue: string,
    onDelivery: (delivery: Delivery) => Promise<void>,
    onEnd: (error: FerryError) => void,
  ): Promise<void> {
    let channel: Channel;
    try {
      channel = await this.model.createChannel();
    } catch (error) {
      throw FerryError.from(error, 'CONNECTION_LOST');
    }
    let failure: Error | undefined;
    let ended = false;
    const end = (error: FerryError): void => {
      if (ended) return;
      ended = true;
      if (!this.ended) onEnd(error);
    };
    channel.on('error', (error: Error) => {
      failure = error;
    });
    channel.on('close', () =>
      end(FerryError.from(failure ?? new Error(`the channel consuming ${queue} closed`), 'CHANNEL_LOST')),
    );
    try {
      await channel.prefetch(CONSUMER_PREFETCH);
      await channel.consume(queue, (message) => {
        if (message === null) {
          // The broker cancelled the consumer: the queue was deleted.
          end(new FerryError('NOT_FOUND', `the consumer of ${queue} was cancelled by the broker`));
          channel.close().catch(() => undefined);
          return;
        }
        onDelivery(toDelivery(message)).then(
          () => channel.ack(message),
          () => channel.nack(message, false, true),
        );
      });
    } catch (error) {
      channel.close().catch(() => undefined);
      throw FerryError.from(failure ?? error, 'CHANNEL_LOST');
    }
  }

  async checkExchange(name: string): Promise<void> {
    try {
      await (await this.rpc()).checkExchange(name);
    } catch (error) {
      throw FerryError.from(error, 'CHANNEL_LOST');
    }
  }

  declare(topology: Topology): Promise<void> {
    return declareTopology(() => this.rpc(), topology);
  }

  async reopenChannel(): Promise<void> {
    const previous = this.channel;
    this.channel = undefined;
    // Its late events are ignored (see attach); closing an already closed channel rejects, harmlessly.
    previous?.close().catch(() => undefined);
    await this.flushed(this.writeQueue);
    let channel: ConfirmChannel;
    try {
      channel = await this.model.createConfirmChannel();
    } catch (error) {
      throw FerryError.from(error, 'CONNECTION_LOST');
    }
    this.attach(channel);
    this.writeQueue = writeQueueOf(channel);
    this.publishOn = untrackedPublish(channel);
    this.channel = channel;
    this.tag = 1;
  }

  /**
   * Resolves once a closed channel's queued frames, its close-ok last, are all in the socket (or the
   * connection is gone). amqplib frees a channel's number as soon as the broker closes it, so the
   * replacement gets the same number, and its muxer reads a new channel's frames first: the new
   * `channel.open` would overtake the close-ok, and the broker closes the connection for it (504).
   */
  private async flushed(queue: WriteQueue | undefined): Promise<void> {
    if (queue === undefined || queue.readableEnded) return;
    await Promise.race([
      new Promise<void>((resolve) => {
        queue.once('end', resolve);
        queue.once('close', resolve);
      }),
      this.closed,
    ]);
  }

  async close(): Promise<void> {
    this.ended = true;
    this.ownerClosed = true;
    // Resolves on close-ok, or when the socket dies (a `destroy` during a hung close).
    await Promise.race([this.model.close().catch(() => undefined), this.closed]);
  }

  destroy(): void {
    this.ended = true;
    // With an error, amqplib notices at once: it stops its heartbeat timers and closes its channels.
    (this.model as unknown as ModelInternals).connection.stream.destroy(
      new FerryError('CLOSED', 'session destroyed'),
    );
  }

  setListener(listener: SessionListener): void {
    this.listener = listener;
    const undelivered = this.undelivered;
    this.undelivered = undefined;
    if (this.blockedReason !== undefined) listener.blocked(this.blockedReason);
    undelivered?.(listener);
  }

  private rpc(): Promise<Channel> {
    if (this.rpcChannel === undefined) {
      const opening = this.model.createChannel().then((channel) => {
        // Needed: without it amqplib turns this channel's error into a connection error.
        channel.on('error', () => undefined);
        channel.on('close', () => {
          if (this.rpcChannel === opening) this.rpcChannel = undefined;
        });
        return channel;
      });
      opening.catch(() => {
        if (this.rpcChannel === opening) this.rpcChannel = undefined;
      });
      this.rpcChannel = opening;
    }
    return this.rpcChannel;
  }

  /** Wires a confirm channel's events to the listener for as long as it is the current one. */
  private attach(channel: ConfirmChannel): void {
    let failure: Error | undefined;
    channel.on('error', (error: Error) => {
      failure = error;
    });
    channel.on('close', () => {
      // Without an 'error' first, the connection is closing the channel: its own close reports that.
      if (this.channel !== channel || failure === undefined || this.ended) return;
      this.report((listener) => listener.channelClosed(FerryError.from(failure, 'CHANNEL_LOST')));
    });
    channel.on('ack', (fields: { deliveryTag: number; multiple: boolean }) => {
      if (this.channel === channel) this.listener?.ack(fields.deliveryTag, fields.multiple);
    });
    channel.on('nack', (fields: { deliveryTag: number; multiple: boolean }) => {
      if (this.channel === channel) this.listener?.nack(fields.deliveryTag, fields.multiple);
    });
    channel.on('return', (message: Message) => {
      const fields = message.fields as unknown as ReturnFields;
      if (this.channel === channel) {
        this.listener?.returned(message.properties.messageId, fields.replyCode, fields.replyText);
      }
    });
    channel.on('drain', () => {
      if (this.channel === channel) this.listener?.drain();
    });
  }

  private onConnectionClose(error: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    const failure = FerryError.from(error ?? new Error('Connection closed by the broker'), 'CONNECTION_LOST');
    this.report((listener) => listener.connectionClosed(failure));
  }

  private report(event: (listener: SessionListener) => void): void {
    if (this.listener === undefined) this.undelivered = event;
    else event(this.listener);
  }
}
