/**
 * Reads RabbitMQ's 406 size refusal. The broker closes the whole channel for one oversized publish
 * without naming the message; the sizes in its text tell the oversized message from its neighbours.
 */

/**
 * 406 texts of RabbitMQ 3.10.8's size checks (read from rabbit_channel.beam): "message size ~B is larger
 * than configured max size ~B" (`max_message_size`) and "… larger than max size ~B" (the hard cap).
 */
const TOO_LARGE = /message size (\d+) is larger than (?:configured )?max size (\d+)/i;

/** The sizes a size refusal names, in bytes. */
export interface SizeRefusal {
  /** The body size of the message the broker refused. */
  readonly messageSize: number;
  /** The broker's limit: bodies up to this size are taken. */
  readonly maxMessageSize: number;
}

/**
 * The sizes in the text of a 406 size refusal (amqplib's whole close message will do), or `undefined`
 * for any other text and for a refusal that does not name both sizes.
 */
export function parseSizeRefusal(text: string): SizeRefusal | undefined {
  const match = TOO_LARGE.exec(text);
  if (match === null) return undefined;
  return { messageSize: Number(match[1]), maxMessageSize: Number(match[2]) };
}
