/**
 * A broker port that tests drive by hand: every publish is recorded, and the test decides when and how
 * the broker answers (ack, nack, return, channel or connection loss, blocked). It implements the same
 * narrow interfaces as the amqplib adapter, so the producer cannot tell the difference.
 *
 * Answers are delivered the way a real broker's are: never from inside `publish()`. A test either calls
 * `ack`/`nack`/... itself after it saw a publish, or installs a {@link Responder} that answers each
 * publish on a later event-loop turn.
 */
import type {
  AmqpConnectOptions,
  BrokerPort,
  BrokerSession,
  Delivery,
  PublishProperties,
  SessionListener,
} from '../../src/amqp/ports.js';
import type { Topology } from '../../src/amqp/topology.js';
import { FerryError } from '../../src/errors.js';

/** One message the fake broker received. */
export interface FakePublish {
  /** Delivery tag on its channel: restarts at 1 on every reopened channel. */
  readonly tag: number;
  /** Which confirm channel of the session carried it: 1, then 2 after the first reopen, ... */
  readonly channel: number;
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly properties: PublishProperties;
  /** Whether it was published `mandatory` (probes sent with `publishUnconfirmed` are not). */
  readonly mandatory: boolean;
  /** When it arrived, `Date.now()`. */
  readonly at: number;
}

/** A consumer registered with `consume()`. */
export interface FakeConsumer {
  readonly onDelivery: (delivery: Delivery) => Promise<void>;
  readonly onEnd: (error: FerryError) => void;
}

/** How a {@link Responder} answers one publish; `undefined` leaves it unanswered. */
export type Answer = 'ack' | 'nack' | 'return' | undefined;

/** Decides, for each publish, how the fake broker answers it (on a later event-loop turn). */
export type Responder = (publish: FakePublish, session: FakeSession) => Answer;

/** A session of the fake broker. */
export class FakeSession implements BrokerSession {
  readonly endpoint = 'amqp://fake';
  readonly published: FakePublish[] = [];
  listener: SessionListener | null = null;
  destroyed = false;
  closed = false;
  /** What `publish()` returns; set to `false` to simulate a full write buffer. */
  writable = true;
  healthCheck: () => Promise<void> = () => Promise.resolve();
  /** Every topology `declare()` was called with, in order. */
  readonly declared: Topology[] = [];
  /** How `declare()` answers, after recording the call. */
  declaration: () => Promise<void> = () => Promise.resolve();
  /** When set, `publish()` throws what it returns (nothing sent, no tag used) for matching messages. */
  refusePublish: ((publish: Omit<FakePublish, 'tag' | 'channel' | 'at'>) => FerryError | undefined) | null =
    null;
  /** When set, `reopenChannel()` waits for it (a slow broker), then fails if it rejects. */
  reopenGate: Promise<void> | null = null;
  /** Answers this session's publishes automatically, over the broker's; see {@link Responder}. */
  responder: Responder | null = null;
  /** Messages sent with `publishUnconfirmed` (probes), in order. */
  readonly unconfirmed: FakePublish[] = [];
  /** Consumers by queue. */
  readonly consumers = new Map<string, FakeConsumer>();
  /**
   * When set, the alternate exchange's queue: a `publishUnconfirmed` probe is delivered to its
   * consumer on a later turn, as a policy with an alternate exchange would route it.
   */
  alternateExchangeQueue: string | null;
  private tag = 0;
  private channel = 1;
  /** Publishes of the current channel not yet acked or nacked by this fake, by tag. */
  private readonly outstanding = new Map<number, FakePublish>();

  constructor(private readonly broker: FakeBroker | null = null) {
    this.alternateExchangeQueue = broker?.alternateExchangeQueue ?? null;
  }

  get nextDeliveryTag(): number {
    return this.tag + 1;
  }

  /** The current confirm channel's number (1 until the first reopen). */
  get channelNumber(): number {
    return this.channel;
  }

  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    properties: PublishProperties,
    mandatory: boolean,
  ): boolean {
    if (this.destroyed || this.closed) throw new FerryError('CONNECTION_LOST', 'session is gone');
    const refused = this.refusePublish?.({ exchange, routingKey, content, properties, mandatory });
    if (refused !== undefined) throw refused;
    this.tag += 1;
    const publish: FakePublish = {
      tag: this.tag,
      channel: this.channel,
      exchange,
      routingKey,
      content,
      properties,
      mandatory,
      at: Date.now(),
    };
    this.published.push(publish);
    this.outstanding.set(publish.tag, publish);
    if (this.answerer() !== null) this.scheduleAnswer(publish);
    return this.writable;
  }

  async publishUnconfirmed(
    exchange: string,
    routingKey: string,
    content: Buffer,
    properties: PublishProperties,
  ): Promise<void> {
    if (!this.live) throw new FerryError('CONNECTION_LOST', 'session is gone');
    const publish = { tag: 0, channel: 0, exchange, routingKey, content, properties, mandatory: false };
    this.unconfirmed.push({ ...publish, at: Date.now() });
    const queue = this.alternateExchangeQueue;
    // Left in the queue when nobody consumes it any more, as the broker would.
    const delivery = { exchange, routingKey, content, properties };
    if (queue !== null) setImmediate(() => this.deliver(queue, delivery).catch(() => undefined));
  }

  async consume(
    queue: string,
    onDelivery: (delivery: Delivery) => Promise<void>,
    onEnd: (error: FerryError) => void,
  ): Promise<void> {
    if (!this.live) throw new FerryError('CONNECTION_LOST', 'session is gone');
    this.consumers.set(queue, { onDelivery, onEnd });
  }

  /** Delivers a message to the consumer of `queue`; resolves as the consumer would ack it. */
  deliver(queue: string, delivery: Delivery): Promise<void> {
    const consumer = this.consumers.get(queue);
    if (consumer === undefined || !this.live) return Promise.reject(new Error(`nobody consumes ${queue}`));
    return consumer.onDelivery(delivery);
  }

  /** The broker cancels the consumer of `queue` (the queue was deleted). */
  cancelConsumer(queue: string): void {
    const consumer = this.consumers.get(queue);
    this.consumers.delete(queue);
    if (this.live) consumer?.onEnd(new FerryError('NOT_FOUND', `the consumer of ${queue} was cancelled`));
  }

  checkExchange(): Promise<void> {
    return this.healthCheck();
  }

  declare(topology: Topology): Promise<void> {
    this.declared.push(topology);
    return this.declaration();
  }

  async reopenChannel(): Promise<void> {
    if (this.reopenGate !== null) await this.reopenGate;
    this.tag = 0;
    this.channel += 1;
    this.outstanding.clear();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  destroy(): void {
    this.destroyed = true;
  }

  setListener(listener: SessionListener): void {
    this.listener = listener;
  }

  /** Whether the producer still listens: a closed or destroyed session reports nothing. */
  get live(): boolean {
    return !this.destroyed && !this.closed;
  }

  /** `basic.ack` for `tag`, or with `multiple` for every outstanding tag up to it. */
  ack(tag: number, multiple = false): void {
    this.forget(tag, multiple);
    if (this.live) this.listener?.ack(tag, multiple);
  }

  /** `basic.nack` for `tag`, or with `multiple` for every outstanding tag up to it. */
  nack(tag: number, multiple = false): void {
    this.forget(tag, multiple);
    if (this.live) this.listener?.nack(tag, multiple);
  }

  /** `basic.return` of a message, as the broker sends it before the message's ack. */
  returnMessage(messageId: string | undefined, replyCode = 312, replyText = 'NO_ROUTE'): void {
    if (this.live) this.listener?.returned(messageId, replyCode, replyText);
  }

  /** Acks every publish so far on the current channel (one `multiple` ack). */
  ackAll(): void {
    if (this.tag > 0) this.ack(this.tag, true);
  }

  /** Publishes of the current channel that this fake has neither acked nor nacked, oldest first. */
  unanswered(): FakePublish[] {
    return [...this.outstanding.values()];
  }

  /** The publishes whose message id is `messageId`, in order. */
  publishesOf(messageId: string): FakePublish[] {
    return this.published.filter((p) => p.properties.messageId === messageId);
  }

  /** The channel's write buffer has room again. */
  drain(): void {
    this.writable = true;
    if (this.live) this.listener?.drain();
  }

  /** `connection.blocked` (a resource alarm). */
  block(reason = 'low on memory'): void {
    if (this.live) this.listener?.blocked(reason);
  }

  unblock(): void {
    if (this.live) this.listener?.unblocked();
  }

  /** The confirm channel died (e.g. a 404 on publish); the connection lives on. */
  closeChannel(error = new FerryError('NOT_FOUND', "NOT_FOUND - no exchange 'gone'")): void {
    this.outstanding.clear();
    if (this.live) this.listener?.channelClosed(error);
  }

  /** Simulates the connection dying. */
  dropConnection(code: FerryError['code'] = 'CONNECTION_LOST'): void {
    const listener = this.live ? this.listener : null;
    this.destroyed = true;
    this.outstanding.clear();
    listener?.connectionClosed(new FerryError(code, 'fake connection dropped'));
  }

  private forget(tag: number, multiple: boolean): void {
    if (!multiple) {
      this.outstanding.delete(tag);
      return;
    }
    for (const key of this.outstanding.keys()) if (key <= tag) this.outstanding.delete(key);
  }

  private answerer(): Responder | null {
    return this.responder ?? this.broker?.responder ?? null;
  }

  private scheduleAnswer(publish: FakePublish): void {
    setImmediate(() => {
      if (!this.live || publish.channel !== this.channel || !this.outstanding.has(publish.tag)) return;
      const answer = this.answerer()?.(publish, this);
      if (answer === 'ack') this.ack(publish.tag);
      else if (answer === 'nack') this.nack(publish.tag);
      else if (answer === 'return') {
        this.returnMessage(publish.properties.messageId);
        this.ack(publish.tag);
      }
    });
  }
}

/** A broker port whose sessions are {@link FakeSession}s; connect attempts can be made to fail. */
export class FakeBroker implements BrokerPort {
  readonly sessions: FakeSession[] = [];
  connectAttempts = 0;
  /** Errors the next connect attempts reject with, in order; empty means connect succeeds. */
  readonly failNext: FerryError[] = [];
  /** While set, every connect attempt rejects with it (after `failNext` is used up). */
  refuse: FerryError | null = null;
  /** When set, connect attempts wait for this promise first. */
  gate: Promise<void> | null = null;
  /** Answers the publishes of every session that has no responder of its own; see {@link Responder}. */
  responder: Responder | null = null;
  /** The {@link FakeSession.alternateExchangeQueue} of the sessions it opens from now on. */
  alternateExchangeQueue: string | null = null;

  get session(): FakeSession {
    const session = this.sessions.at(-1);
    if (session === undefined) throw new Error('no session yet');
    return session;
  }

  /** Every publish of every session, oldest first. */
  get published(): FakePublish[] {
    return this.sessions.flatMap((session) => session.published);
  }

  /** Every publish of `messageId` on any session, oldest first. */
  publishesOf(messageId: string): FakePublish[] {
    return this.published.filter((p) => p.properties.messageId === messageId);
  }

  async connect(_options: AmqpConnectOptions, signal: AbortSignal): Promise<BrokerSession> {
    this.connectAttempts += 1;
    if (this.gate !== null) await this.gate;
    if (signal.aborted) throw new FerryError('CONNECT_TIMEOUT', 'aborted');
    const failure = this.failNext.shift() ?? this.refuse ?? undefined;
    if (failure !== undefined) throw failure;
    const session = new FakeSession(this);
    this.sessions.push(session);
    return session;
  }
}
