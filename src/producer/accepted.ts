/**
 * An accepted message as the runtime holds it between acceptance and its outcome.
 */
import type { OutboundMessage } from '../message/outbound-message.js';
import { Receipt } from './receipt.js';

/**
 * One accepted message: the message itself and the caller's receipt. It
 * is the receipt too (one object per held message, not two): callers see only `messageId` and
 * `settled`, and logging it shows the id alone.
 *
 * @internal
 */
export class Accepted extends Receipt {
  /** When its current publish was written (ms), for the confirm-latency metric. */
  writtenAt = 0;

  /** The body's size: read on every hand-off, and a typed array's `byteLength` is a getter call. */
  readonly bytes: number;

  constructor(readonly message: OutboundMessage) {
    super(message.messageId);
    this.bytes = message.content.byteLength;
  }
}
