/**
 * Who a write's outcome belongs to. The hot path tracks every write with the kind of its owner (one
 * byte in the confirm tracker's slot, nothing allocated per write), so the broker's answer to one write
 * (a first publish, the breaker's probe, a retry, a dead-letter hand-off) settles that write and
 * nothing else, whatever happened to the message meanwhile.
 */
import { FAILURE_CODES } from '../../machines/failure.js';
import type { SettleOutcome } from '../amqp/confirm-tracker.js';
import { FerryError } from '../errors.js';
import type { Accepted } from './accepted.js';

/** What becomes of a write's outcome. */
export interface WriteOwner {
  /** The broker confirmed the write. */
  confirmed(accepted: Accepted): void;
  /** The broker nacked or returned it, did not confirm it in time, or its channel closed first. */
  failed(accepted: Accepted, failure: FerryError): void;
  /** It could not go at all, for good (too large, not encodable): nothing was sent. */
  refused(accepted: Accepted, failure: FerryError): void;
  /** Its connection died before an answer, or the write threw as its channel went away. */
  lost(accepted: Accepted, failure: FerryError): void;
}

/** The kinds of write, as the confirm tracker stores them; each indexes its owner. */
export const WRITE = { healthy: 0, probe: 1, retry: 2, deadLetter: 3 } as const;

/** One of {@link WRITE}. */
export type WriteKind = (typeof WRITE)[keyof typeof WRITE];

/** The owners of the writes a message actor asks for: its retries and its dead-letter hand-off. */
export interface ActorWriteOwners {
  readonly retry: WriteOwner;
  readonly deadLetter: WriteOwner;
}

const OUTCOME_CODES = {
  nacked: FAILURE_CODES.nacked,
  returned: FAILURE_CODES.returned,
  'confirm-timeout': FAILURE_CODES.confirmTimeout,
  'channel-lost': FAILURE_CODES.channelLost,
} as const;

const OUTCOME_MESSAGES = {
  nacked: 'the broker refused the message (basic.nack)',
  returned: 'the message was unroutable (basic.return)',
  'confirm-timeout': 'no confirm within the timeout: outcome unknown',
  'channel-lost': 'the channel closed before the message was confirmed: outcome unknown',
} as const;

/**
 * The failure a write's outcome other than `confirmed` stands for. `channelError`: why the broker
 * closed the write's channel, when it did; named in the message, so that a message parked because its
 * dead-letter exchange does not exist says so (the 404 names the exchange) in `parkedReason`.
 */
export function outcomeFailure(
  outcome: Exclude<SettleOutcome, 'confirmed'>,
  messageId: string,
  channelError?: FerryError,
): FerryError {
  if (channelError === undefined || outcome !== 'channel-lost') {
    return new FerryError(OUTCOME_CODES[outcome], OUTCOME_MESSAGES[outcome], { details: { messageId } });
  }
  const message = `${OUTCOME_MESSAGES[outcome]} (${channelError.message})`;
  return new FerryError(OUTCOME_CODES[outcome], message, { details: { messageId }, cause: channelError });
}
