/**
 * The broker's `max_message_size`, learned from its refusals. RabbitMQ answers an oversized publish by
 * closing the whole confirm channel (406) without naming the message, so each oversized write would
 * take the messages in flight beside it down too. Once the limit is known, larger messages are refused
 * before they are written.
 */
import { FerryError } from '../errors.js';

/**
 * The limit the broker named in its last size refusal. One per producer, kept across channels and
 * connections: a broker's limit rarely changes, and a later refusal naming another limit replaces it.
 *
 * An operator may raise the limit, and refusing every larger message locally would never find out: so
 * once every `recheckMs` one message above it is written anyway. If the broker confirms it, the limit
 * is forgotten; if the broker refuses it, that costs one channel close and the limit is learned anew.
 *
 * @internal
 */
export class SizeLimit {
  /** The limit in bytes, `Infinity` while none is known: a body larger than this is refused. */
  bytes = Number.POSITIVE_INFINITY;
  /** When the next message above the limit may be written to re-check it. */
  private recheckAt = 0;

  constructor(
    private readonly recheckMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Learns the limit from the error a channel closed with. Returns it, or `undefined` when the close
   * was not a size refusal or its text names no limit.
   */
  learn(error: FerryError): number | undefined {
    // `FerryError.from` read the sizes out of the 406's text into its details.
    const limit = error.details?.maxMessageSize;
    if (error.code !== 'MESSAGE_TOO_LARGE' || typeof limit !== 'number') return undefined;
    this.bytes = limit;
    this.recheckAt = this.now() + this.recheckMs;
    return this.bytes;
  }

  /**
   * For a message above the limit: the error to refuse it with, or `undefined` when it is written as
   * the limit's re-check.
   */
  refusal(bytes: number): FerryError | undefined {
    const now = this.now();
    if (now >= this.recheckAt) {
      this.recheckAt = now + this.recheckMs;
      return undefined;
    }
    return tooLarge(bytes, this.bytes, 'refused before publishing (the limit the broker named in a 406)');
  }

  /** The broker confirmed a message above the limit: it was raised, and the new one is not known. */
  raised(): void {
    this.bytes = Number.POSITIVE_INFINITY;
  }
}

/** `MESSAGE_TOO_LARGE` for a message of `bytes` over `limit`, with both sizes as details. */
export function tooLarge(bytes: number, limit: number, why: string): FerryError {
  return new FerryError(
    'MESSAGE_TOO_LARGE',
    `message size ${bytes} is larger than the broker's max message size ${limit}: ${why}`,
    { details: { messageSize: bytes, maxMessageSize: limit } },
  );
}
