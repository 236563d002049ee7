/**
 * An accepted message as the runtime holds it between acceptance and its outcome.
 */
import type { MessageProperties, OutboundMessage } from '../message/outbound-message.js';
import { Receipt } from './receipt.js';

/**
 * The instant `acceptedAt` is counted from inside an {@link Accepted}. A time since the epoch in ms is
 * beyond a small integer, and V8 keeps a field holding such a number in a heap number of its own: one
 * more object per held message for every young-generation collection to copy. Counted from when this
 * module loaded, it stays a small integer for 24 days of the process's life (a message recovered from
 * an older journal, or a process running longer, gets the box back, with the same value).
 */
const ORIGIN = Date.now();

/**
 * One accepted message: the message itself and the caller's receipt, in one object. Every object held
 * per message until its confirm is copied by each young-generation collection it lives through, and
 * ferry holds up to `maxInFlight` of them: the message's fields live here rather than in an object of
 * their own. Callers see only `messageId` and `settled`, and logging it shows the id alone.
 *
 * @internal
 */
export class Accepted extends Receipt implements OutboundMessage {
  /** The body's size: read on every hand-off, and a typed array's `byteLength` is a getter call. */
  readonly bytes: number;
  readonly exchange: string;
  readonly routingKey: string;
  /**
   * Where the body's bytes are (usually a slab shared by about thirty bodies, see publish-request.ts)
   * rather than a Buffer over them: a Buffer is an object of about 100 bytes of its own per held
   * message, the largest of them, where an offset is none.
   */
  private readonly body: ArrayBufferLike;
  private readonly bodyOffset: number;
  readonly properties: MessageProperties;
  /** `acceptedAt` less {@link ORIGIN}. */
  private readonly acceptedSinceOrigin: number;
  /**
   * What the message tracer (src/tracing/) keeps for this message until its outcome, its open span;
   * `undefined` when nothing traces it. Kept on the record the tracer is handed at every step, rather
   * than in a map by message id: with thousands of messages in flight, that map's inserts, lookups and
   * rehashes cost about 1 µs per message. Nothing else reads or writes it.
   */
  traced: object | undefined = undefined;

  constructor(message: OutboundMessage) {
    super(message.messageId);
    this.exchange = message.exchange;
    this.routingKey = message.routingKey;
    const { content } = message;
    this.body = content.buffer;
    this.bodyOffset = content.byteOffset;
    this.properties = message.properties;
    this.acceptedSinceOrigin = message.acceptedAt - ORIGIN;
    this.bytes = content.byteLength;
  }

  /** A view of the body, made when asked for: once per write, and by a journal that stores it. */
  get content(): Buffer {
    return Buffer.from(this.body, this.bodyOffset, this.bytes);
  }

  get acceptedAt(): number {
    return ORIGIN + this.acceptedSinceOrigin;
  }

  /** The message, as the journal stores it and the channel publishes it: this object. */
  get message(): OutboundMessage {
    return this;
  }
}
