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
  | { readonly type: 'breaker.changed'; readonly state: BreakerPhase; readonly previous: BreakerPhase }
  /** A retrying message is being published again; `attempts` counts the failed ones so far. */
  | { readonly type: 'message.retried'; readonly messageId: string; readonly attempts: number }
  /** Its dead-letter hand-off failed: it is kept and handed off again later, never dropped. */
  | ({ readonly type: 'message.parked' } & MessageFacts)
  | ({ readonly type: 'message.dead-lettered' } & MessageFacts)
  /** A message that had left the healthy path was confirmed after all. */
  | { readonly type: 'message.confirmed'; readonly messageId: string; readonly attempts: number };

/** What the events of a message that failed say about it. */
export interface MessageFacts {
  readonly messageId: string;
  readonly attempts: number;
  /** Why its last attempt failed (docs/errors.md). */
  readonly failureCode: FerryErrorCode;
  readonly failureMessage: string;
}
