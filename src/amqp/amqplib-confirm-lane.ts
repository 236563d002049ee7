/**
 * One amqplib confirm channel of a session: the session's own, or one of its pool. Confirms arrive
 * through the channel's `ack`/`nack` events; `publish` passes no callback, so the hot path allocates
 * no closure per message. amqplib does not report delivery tags, so the lane counts publishes since
 * its channel opened.
 *
 * @internal
 */
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import { FerryError } from '../errors.js';
import { fromAmqplib } from './amqplib-errors.js';
import {
  type FramedPublish,
  framedPublish,
  untrackedPublish,
  type WriteQueue,
  writeQueueOf,
} from './amqplib-internals.js';
import { publishFrame, publishOptions, type ReturnFields, returnFields } from './amqplib-messages.js';
import type { ConfirmLane, LaneListener, PublishProperties } from './ports.js';

/** What a lane shares with its session. */
export interface LaneConnection {
  readonly model: ChannelModel;
  /** Resolves when the connection has closed. */
  readonly closed: Promise<void>;
  /** The session was closed or destroyed, or its connection died: the lane reports nothing more. */
  readonly ended: () => boolean;
}

/**
 * A confirm channel, reopened in place after the broker closes it.
 *
 * @internal
 */
export class AmqplibConfirmLane implements ConfirmLane {
  private channel: ConfirmChannel | undefined;
  /** The current channel's publish without amqplib's callback queue; see {@link untrackedPublish}. */
  private publishOn: ConfirmChannel['publish'] = () => false;
  /** The current channel's publish without amqplib's `Args.publish`; see {@link framedPublish}. */
  private sendFrame: FramedPublish | undefined;
  /** The channel's write buffer in amqplib, kept to know when a closed channel's frames are out. */
  private writeQueue: WriteQueue | undefined;
  private tag = 1;
  private listener: LaneListener | undefined;
  /** A channel close that happened while no listener was set, delivered by `setListener`. */
  private undelivered: FerryError | undefined;

  /** @param connection - shared with the session and the rest of its pool. */
  constructor(readonly connection: LaneConnection) {}

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
      const { sendFrame } = this;
      written =
        sendFrame === undefined
          ? this.publishOn.call(channel, exchange, routingKey, content, publishOptions(properties, mandatory))
          : sendFrame(publishFrame(exchange, routingKey, properties, mandatory), content);
    } catch (error) {
      // amqplib encodes everything before writing: a throw means nothing was sent.
      throw fromAmqplib(error, 'INVALID_MESSAGE');
    }
    this.tag += 1;
    return written;
  }

  async reopenChannel(): Promise<void> {
    const previous = this.channel;
    this.channel = undefined;
    // Its late events are ignored (see attach); closing an already closed channel rejects, harmlessly.
    previous?.close().catch(() => undefined);
    await this.flushed(this.writeQueue);
    let channel: ConfirmChannel;
    try {
      channel = await this.connection.model.createConfirmChannel();
    } catch (error) {
      throw fromAmqplib(error, 'CONNECTION_LOST');
    }
    this.attach(channel);
    this.writeQueue = writeQueueOf(channel);
    this.publishOn = untrackedPublish(channel);
    this.sendFrame = framedPublish(channel);
    this.channel = channel;
    this.tag = 1;
  }

  setListener(listener: LaneListener): void {
    this.listener = listener;
    const undelivered = this.undelivered;
    this.undelivered = undefined;
    if (undelivered !== undefined) listener.channelClosed(undelivered);
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
      this.connection.closed,
    ]);
  }

  /** Wires a confirm channel's events to the listener for as long as it is the current one. */
  private attach(channel: ConfirmChannel): void {
    let failure: Error | undefined;
    channel.on('error', (error: Error) => {
      failure = error;
    });
    channel.on('close', () => {
      // Without an 'error' first, the connection is closing the channel: its own close reports that.
      if (this.channel !== channel || failure === undefined || this.connection.ended()) return;
      const lost = fromAmqplib(failure, 'CHANNEL_LOST');
      if (this.listener === undefined) this.undelivered = lost;
      else this.listener.channelClosed(lost);
    });
    channel.on('ack', (fields: { deliveryTag: number; multiple: boolean }) => {
      if (this.channel === channel) this.listener?.ack(fields.deliveryTag, fields.multiple);
    });
    channel.on('nack', (fields: { deliveryTag: number; multiple: boolean }) => {
      if (this.channel === channel) this.listener?.nack(fields.deliveryTag, fields.multiple);
    });
    channel.on('return', (message: Message) => {
      const fields: ReturnFields = returnFields(message.fields);
      if (this.channel === channel) {
        this.listener?.returned(message.properties.messageId, fields.replyCode, fields.replyText);
      }
    });
    channel.on('drain', () => {
      if (this.channel === channel) this.listener?.drain();
    });
  }
}
