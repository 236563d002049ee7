/**
 * What `producer.events$` emits. A module of its own with no XState or rxjs import, so that a library
 * user's typings can name the events without loading either.
 */
import type { BreakerPhase, ConnectionPhase } from '../../machines/phases.js';
import type { FerryErrorCode } from '../errors.js';

/** A notable event of a producer. Message events carry the message id. */
export type ProducerEvent =
  | {
      readonly type: 'connection.changed';
      readonly phase: ConnectionPhase;
      readonly previous: ConnectionPhase;
    }
  /**
   * A connection attempt failed (or a live connection was lost) and a reconnect is scheduled:
   * `attempt` is its number since the last successful connect (1 for the first, whose exponential
   * delay is the initial one), `delayMs` the drawn wait before it, `jitterMs` how much of that the
   * jitter added. `gaveUp`: the attempt budget is spent (or the failure is permanent) and the
   * connection reads `failed` while it keeps trying at the max delay.
   */
  | ({
      readonly type: 'connection.retry-scheduled';
      readonly attempt: number;
      readonly delayMs: number;
      readonly jitterMs: number;
      readonly gaveUp: boolean;
    } & FailureFacts)
  /** The periodic check of the exchange failed or timed out; the connection is dropped and retried. */
  | ({ readonly type: 'connection.health-check-failed'; readonly failures: number } & FailureFacts)
  /**
   * The breaker changed state. `consecutiveFailures` and the last failure are those the breaker had
   * counted when it changed: on `open`, the failures that opened it.
   */
  | ({
      readonly type: 'breaker.changed';
      readonly state: BreakerPhase;
      readonly previous: BreakerPhase;
      readonly consecutiveFailures: number;
      readonly trips: number;
    } & Partial<FailureFacts>)
  /** A failed message waits `delayMs` before its next publish, attempt number `attempt`. */
  | ({
      readonly type: 'message.retry-scheduled';
      readonly messageId: string;
      readonly attempt: number;
      readonly delayMs: number;
    } & FailureFacts)
  /** A retrying message is being published again; `attempts` counts the failed ones so far. */
  | { readonly type: 'message.retried'; readonly messageId: string; readonly attempts: number }
  /** Its dead-letter hand-off failed: it is kept and handed off again later, never dropped. */
  | ({ readonly type: 'message.parked' } & MessageFacts)
  | ({ readonly type: 'message.dead-lettered' } & MessageFacts)
  /** A message that had left the healthy path was confirmed after all. */
  | { readonly type: 'message.confirmed'; readonly messageId: string; readonly attempts: number };

/** The failure an event reports. */
export interface FailureFacts {
  /** Why it failed (docs/errors.md). */
  readonly failureCode: FerryErrorCode;
  readonly failureMessage: string;
}

/** What the events of a message that failed say about it. */
export interface MessageFacts extends FailureFacts {
  readonly messageId: string;
  readonly attempts: number;
}
