/**
 * The producer's observation hook: what metrics need beyond {@link ProducerStatus} (per-message events).
 */
import type { SettleOutcome } from '../amqp/confirm-tracker.js';

/**
 * Receives per-message events, synchronously, on the hot path: implementations must be cheap and should
 * allocate nothing per call. Arguments are primitives so that the producer allocates nothing either.
 * Register with `producer.observe(observer)`.
 */
export interface ProducerObserver {
  /** A message was accepted (journaled); `bytes` is its body size. */
  accepted(routingKey: string, bytes: number): void;
  /**
   * The broker answered one write (or did not in time): every publish counts, retries and dead-letter
   * hand-offs included. `latencyMs` is the time since the write. A connection loss answers nothing.
   */
  answered(outcome: SettleOutcome, latencyMs: number): void;
  /** The message `messageId` reached its outcome, `elapsedMs` after it was accepted. */
  settled(
    routingKey: string,
    outcome: 'confirmed' | 'dead-lettered',
    elapsedMs: number,
    messageId: string,
  ): void;
  /** A retrying message's actor published it again. */
  retried(): void;
  /** A connection attempt began (the first one included). */
  connecting(): void;
}
