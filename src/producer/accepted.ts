/**
 * An accepted message as the runtime holds it between acceptance and its outcome.
 */
import type { OutboundMessage } from './publish-request.js';
import { Receipt } from './receipt.js';

/** Which path a message is on while it waits for its confirm. */
export type Route = 'healthy' | 'probe' | 'retry' | 'dead-letter';

/** Callbacks of a dead-letter publish waiting for its confirm. */
export interface DeadLetterSettle {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * One accepted message: the message itself, how often it was attempted, and the caller's receipt. It
 * is the receipt too (one object per held message, not two): callers see only `messageId` and
 * `settled`, and logging it shows the id alone.
 *
 * @internal
 */
export class Accepted extends Receipt {
  /** Attempts counted so far (failures that used one up). */
  attempts = 0;
  /** The path of its current publish; read when its confirm arrives. */
  route: Route = 'healthy';
  /** Set while a dead-letter publish of this message waits for its confirm. */
  deadLetter: DeadLetterSettle | undefined;
  /** When its current publish was written (ms), for the confirm-latency metric. */
  writtenAt = 0;

  /** The body's size: read on every hand-off, and a typed array's `byteLength` is a getter call. */
  readonly bytes: number;

  constructor(readonly message: OutboundMessage) {
    super(message.messageId);
    this.bytes = message.content.byteLength;
  }
}
