/**
 * The amqplib 2.x adapter behind {@link BrokerPort}: one connection, one confirm channel for
 * publishing (with `channels` above 1, a pool of them; see amqplib-confirm-lane.ts) and, opened on
 * first use, one plain channel for declarations and health checks, so that a 404 from
 * `checkExchange` or a 406 from a declaration never kills a confirm channel.
 */
import { type Channel, type ChannelModel, connect } from 'amqplib';
import { FerryError } from '../errors.js';
import { AmqplibConfirmLane } from './amqplib-confirm-lane.js';
import { attemptFailure, connectTarget, roundFailure, validateConnectOptions } from './amqplib-connect.js';
import { fromAmqplib } from './amqplib-errors.js';
import { socketOf, writeEachPassAtOnce } from './amqplib-internals.js';
import { publishOptions, toDelivery } from './amqplib-messages.js';
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
  ConfirmLane,
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

/** One URL: connection and confirm channels within `connectionTimeoutMs`, or nothing left open. */
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
    await session.openChannels(options.channels ?? 1);
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

/** Unacknowledged deliveries a consumer holds at once: enough to keep it busy, few to hand back. */
const CONSUMER_PREFETCH = 64;

class AmqplibSession implements BrokerSession {
  readonly endpoint: string;
  private readonly model: ChannelModel;
  /** The session's own confirm channel. */
  private readonly own: AmqplibConfirmLane;
  private lanes: readonly ConfirmLane[] = [];
  private rpcChannel: Promise<Channel> | undefined;
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
    this.own = new AmqplibConfirmLane({ model, closed: this.closed, ended: () => this.ended });
  }

  /** Opens the session's own confirm channel and `count - 1` more for its pool, all at once. */
  async openChannels(count: number): Promise<void> {
    const pool = Array.from({ length: count - 1 }, () => new AmqplibConfirmLane(this.own.connection));
    await Promise.all([this.own.reopenChannel(), ...pool.map((lane) => lane.reopenChannel())]);
    this.lanes = pool;
  }

  get pool(): readonly ConfirmLane[] {
    return this.lanes;
  }

  /** Whether `close` (not `destroy`, not the broker or the network) ended the session. */
  get closedByOwner(): boolean {
    return this.ownerClosed;
  }

  get nextDeliveryTag(): number {
    return this.own.nextDeliveryTag;
  }

  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    properties: PublishProperties,
    mandatory: boolean,
  ): boolean {
    return this.own.publish(exchange, routingKey, content, properties, mandatory);
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
      throw fromAmqplib(error, 'CHANNEL_LOST');
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
      throw fromAmqplib(error, 'CONNECTION_LOST');
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
    // A channel that closed while a delivery was handled has handed its unacknowledged deliveries
    // back to the broker already; amqplib throws on an ack through it, which nothing here awaits.
    const settleDelivery = (settle: () => void): void => {
      if (ended) return;
      try {
        settle();
      } catch {
        // Closing, its close event not yet here: the broker requeues the delivery with the channel.
      }
    };
    channel.on('close', () =>
      end(fromAmqplib(failure ?? new Error(`the channel consuming ${queue} closed`), 'CHANNEL_LOST')),
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
          () => settleDelivery(() => channel.ack(message)),
          () => settleDelivery(() => channel.nack(message, false, true)),
        );
      });
    } catch (error) {
      channel.close().catch(() => undefined);
      throw fromAmqplib(failure ?? error, 'CHANNEL_LOST');
    }
  }

  async checkExchange(name: string): Promise<void> {
    try {
      await (await this.rpc()).checkExchange(name);
    } catch (error) {
      throw fromAmqplib(error, 'CHANNEL_LOST');
    }
  }

  declare(topology: Topology): Promise<void> {
    return declareTopology(() => this.rpc(), topology);
  }

  reopenChannel(): Promise<void> {
    return this.own.reopenChannel();
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
    const error = new FerryError('CLOSED', 'session destroyed');
    const socket = socketOf(this.model);
    // Without the socket this adapter knows, amqplib's own close is the way left.
    if (socket === undefined) this.model.close().catch(() => undefined);
    else socket.destroy(error);
  }

  setListener(listener: SessionListener): void {
    this.listener = listener;
    const undelivered = this.undelivered;
    this.undelivered = undefined;
    if (this.blockedReason !== undefined) listener.blocked(this.blockedReason);
    this.own.setListener(listener);
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

  private onConnectionClose(error: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    const failure = fromAmqplib(error ?? new Error('Connection closed by the broker'), 'CONNECTION_LOST');
    this.report((listener) => listener.connectionClosed(failure));
  }

  private report(event: (listener: SessionListener) => void): void {
    if (this.listener === undefined) this.undelivered = event;
    else event(this.listener);
  }
}
