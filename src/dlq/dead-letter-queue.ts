/**
 * Reading a dead-letter queue without consuming it: every message is fetched with `basic.get` and left
 * unacknowledged, so that none is fetched twice, and whatever the caller does not {@link
 * DeadLetterBrowse.ack} is handed back with `basic.nack(requeue)` (or by the broker, should the process
 * die). While a browse is open its messages are invisible to other consumers.
 *
 * Caveat: RabbitMQ puts a requeued message back at its original position when it can, but not always
 * (another consumer, or messages added meanwhile, can reorder them), and marks it `redelivered`.
 */
import amqp, { type ChannelModel, type GetMessage } from 'amqplib';
import { type DeadLetter, readDeadLetter } from './dead-letter.js';

/** One message of a browse: what it says, and the message itself (to publish it again). */
export interface BrowsedLetter {
  readonly letter: DeadLetter;
  readonly message: GetMessage;
}

/** An open browse of a dead-letter queue. */
export interface DeadLetterBrowse {
  /** The messages fetched, oldest first. */
  readonly letters: readonly BrowsedLetter[];
  /** Messages left in the queue beyond the limit. */
  readonly remaining: number;
  /** Removes `letter` from the queue for good. */
  ack(letter: BrowsedLetter): void;
  /** Requeues every message not acked and closes the connection. */
  close(): Promise<void>;
}

/** Where the queue is: a broker URL and, for TLS, the socket options (`ca`, `cert`, `key`, …). */
export interface QueueLocation {
  readonly url: string;
  readonly socketOptions?: Readonly<Record<string, unknown>>;
  readonly queue: string;
}

function connect(where: QueueLocation): Promise<ChannelModel> {
  return amqp.connect(where.url, { ...where.socketOptions });
}

/** Opens a connection and fetches up to `limit` messages of the queue. */
export async function browseDeadLetters(where: QueueLocation, limit: number): Promise<DeadLetterBrowse> {
  const { queue } = where;
  const connection = await connect(where);
  connection.on('error', () => undefined);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await channel.checkQueue(queue);
    const letters: BrowsedLetter[] = [];
    let remaining = 0;
    while (letters.length < limit) {
      const message = await channel.get(queue, { noAck: false });
      if (message === false) break;
      letters.push({ letter: readDeadLetter(message), message });
      remaining = message.fields.messageCount;
    }
    return {
      letters,
      remaining: letters.length < limit ? 0 : remaining,
      ack: (letter) => channel.ack(letter.message),
      close: async () => {
        try {
          channel.nackAll(true);
          await channel.close();
        } finally {
          await connection.close().catch(() => undefined);
        }
      },
    };
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
}

/** Empties the queue; resolves with how many messages it held. */
export async function purgeQueue(where: QueueLocation): Promise<number> {
  const { queue } = where;
  const connection = await connect(where);
  connection.on('error', () => undefined);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await channel.checkQueue(queue);
    return (await channel.purgeQueue(queue)).messageCount;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
