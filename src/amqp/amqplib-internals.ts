/**
 * The amqplib 2.3.1 internals the adapter relies on, and nothing else reaches them: the connection's
 * socket and muxer (corked write passes, a destroy that amqplib notices at once), a channel's write
 * buffer (to know when a closed channel's frames are out), and the plain `Channel#publish` beneath the
 * confirm channel's, or rather the `sendMessage` it ends in. Each is read through a type guard, never
 * assumed: when an amqplib upgrade changes a shape, the adapter falls back to amqplib's public
 * behaviour, and test/amqp/amqplib-internals.test.ts fails loudly against a real broker (it asserts
 * {@link internalsFound} finds every one).
 *
 * @internal
 */
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { PublishFrame } from './amqplib-messages.js';

/** The stream amqplib queues a channel's frames in, which its muxer reads into the socket. */
export interface WriteQueue {
  readonly readableEnded: boolean;
  once(event: 'end' | 'close', listener: () => void): unknown;
}

/** The socket under a connection, as far as the adapter uses it. */
interface Socket {
  destroy(error?: Error): void;
  cork(): void;
  uncork(): void;
}

type Fields<K extends string> = { readonly [key in K]: unknown };

function has<K extends string>(value: unknown, ...keys: K[]): value is Fields<K> {
  return typeof value === 'object' && value !== null && keys.every((key) => key in value);
}

function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === 'function';
}

/** The ChannelModel's Connection. */
function connectionOf(model: ChannelModel): Fields<'stream' | 'muxer'> | undefined {
  const raw: unknown = model;
  if (!has(raw, 'connection')) return undefined;
  const { connection } = raw;
  return has(connection, 'stream', 'muxer') ? connection : undefined;
}

/** The connection's socket, when it is the kind the adapter knows. */
export function socketOf(model: ChannelModel): Socket | undefined {
  const stream = connectionOf(model)?.stream;
  if (!has(stream, 'destroy', 'cork', 'uncork')) return undefined;
  const { destroy, cork, uncork } = stream;
  if (!isFunction(destroy) || !isFunction(cork) || !isFunction(uncork)) return undefined;
  return {
    destroy: (error) => Reflect.apply(destroy, stream, [error]),
    cork: () => Reflect.apply(cork, stream, []),
    uncork: () => Reflect.apply(uncork, stream, []),
  };
}

/**
 * amqplib's muxer writes each queued frame with its own `socket.write`: a syscall and a TCP segment
 * per message. On loopback, where the broker's receive path runs inside the sender's syscall, that
 * was ≈4 µs of CPU per message in the bench's profile. Corking the socket around each pass makes a
 * pass one `writev`. It must be every pass, not just the turn a message is published in: a corked
 * socket fills its write buffer (16 KiB on Node 20: about fifteen 1 KiB frames), the muxer stops
 * until `drain`, and the passes after `drain` write the rest. Left as amqplib does it when its
 * internals are not the ones this module knows.
 *
 * @returns whether the passes are corked now.
 */
export function writeEachPassAtOnce(model: ChannelModel): boolean {
  const muxer = connectionOf(model)?.muxer;
  const socket = socketOf(model);
  if (socket === undefined || !has(muxer, '_readIncoming')) return false;
  const pass = muxer._readIncoming;
  if (!isFunction(pass)) return false;
  Reflect.set(muxer, '_readIncoming', () => {
    socket.cork();
    try {
      Reflect.apply(pass, muxer, []);
    } finally {
      socket.uncork();
    }
  });
  return true;
}

/** The write buffer of `channel` (its number's slot in the connection's channel table). */
export function writeQueueOf(channel: ConfirmChannel): WriteQueue | undefined {
  const raw: unknown = channel;
  if (!has(raw, 'ch', 'connection') || typeof raw.ch !== 'number') return undefined;
  const { connection } = raw;
  if (!has(connection, 'channels') || !Array.isArray(connection.channels)) return undefined;
  const slot: unknown = connection.channels[raw.ch];
  if (!has(slot, 'buffer')) return undefined;
  const { buffer } = slot;
  if (!has(buffer, 'readableEnded', 'once') || !isFunction(buffer.once)) return undefined;
  const { once } = buffer;
  return {
    get readableEnded() {
      return buffer.readableEnded === true;
    },
    once: (event, listener) => Reflect.apply(once, buffer, [event, listener]),
  };
}

/**
 * amqplib's `Channel#publish`, beneath `ConfirmChannel#publish`. The confirm channel's override only
 * queues the callback for the delivery tag (`false` when there is none) and splices that queue on every
 * ack, about 2 µs per message here; ferry passes no callback and counts delivery tags itself (the
 * confirm tracker), so it calls the plain publish on its confirm channel. The channel is still in
 * confirm mode: the broker acks every publish, and amqplib still emits `ack` and `nack`.
 */
export function untrackedPublish(channel: ConfirmChannel): ConfirmChannel['publish'] {
  const confirmProto: unknown = Object.getPrototypeOf(channel);
  const base: unknown = confirmProto === null ? null : Object.getPrototypeOf(confirmProto);
  if (!has(base, 'publish') || !isFunction(base.publish)) return channel.publish;
  const publish = base.publish;
  // The same method amqplib's own override calls, with the same parameters.
  return publish as ConfirmChannel['publish'];
}

/** Writes one publish built by `publishFrame`; returns what `Channel#publish` returns. */
export type FramedPublish = (frame: PublishFrame, content: Buffer) => boolean;

/**
 * `Channel#publish` without its `Args.publish`: amqplib's publish is `this.sendMessage(args, args,
 * content)` with `args = Args.publish(exchange, routingKey, options)`, and `publishFrame` builds those
 * args itself (amqplib-messages.ts says why). `sendMessage` is looked up on the channel at each call:
 * amqplib replaces it on a closed channel with one that throws, as `publish` then does. `undefined`
 * when this amqplib has no such method: the lane then calls the publish.
 */
export function framedPublish(channel: ConfirmChannel): FramedPublish | undefined {
  const raw: unknown = channel;
  if (!has(raw, 'sendMessage') || !isFunction(raw.sendMessage)) return undefined;
  const sender = raw as {
    sendMessage(fields: PublishFrame, properties: PublishFrame, content: Buffer): boolean;
  };
  return (frame, content) => sender.sendMessage(frame, frame, content);
}

/** Which of the internals above this amqplib has; every one `true` on the version ferry pins. */
export function internalsFound(
  model: ChannelModel,
  channel: ConfirmChannel,
): Readonly<Record<string, boolean>> {
  return {
    socket: socketOf(model) !== undefined,
    muxerPass: has(connectionOf(model)?.muxer, '_readIncoming'),
    writeQueue: writeQueueOf(channel) !== undefined,
    basePublish: untrackedPublish(channel) !== channel.publish,
    sendMessage: framedPublish(channel) !== undefined,
  };
}
