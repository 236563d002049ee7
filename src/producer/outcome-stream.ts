/**
 * `producer.outcomes$`: every accepted message's outcome with its id, for callers who never read
 * `receipt.settled`. An observer is registered only while someone subscribes: without a subscriber
 * the hot path pays nothing, and with one it pays one small object per settled message.
 */
import type { Observable } from 'rxjs';
import { rxjs } from '../optional-deps.js';
import type { ProducerObserver } from './observer.js';
import type { Settlement } from './receipt.js';

/**
 * One message's outcome, as `producer.outcomes$` emits it. Not exported from `ferry` (its root keeps
 * to 30 names): the shape is `{ messageId: string; outcome: Settlement }`.
 */
export interface MessageOutcome {
  readonly messageId: string;
  readonly outcome: Settlement;
}

/** What {@link outcomeStream} reads from the producer's runtime. */
export interface OutcomeSource {
  readonly ledger: { observe(observer: ProducerObserver): () => void };
  whenClosed(listener: () => void): () => void;
  readonly state: string;
}

const ignore = (): void => undefined;

/**
 * The outcome of every message settled while subscribed; completes when the producer closes.
 *
 * @internal
 */
export function outcomeStream(source: OutcomeSource): Observable<MessageOutcome> {
  return new (rxjs().Observable)<MessageOutcome>((subscriber) => {
    if (source.state === 'closed') {
      subscriber.complete();
      return undefined;
    }
    const unobserve = source.ledger.observe({
      accepted: ignore,
      answered: ignore,
      retried: ignore,
      connecting: ignore,
      settled: (_routingKey, outcome, _elapsedMs, messageId) => subscriber.next({ messageId, outcome }),
    });
    const closed = source.whenClosed(() => subscriber.complete());
    return () => {
      unobserve();
      closed();
    };
  });
}
