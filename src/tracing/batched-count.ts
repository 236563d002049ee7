/**
 * `messaging.client.sent.messages`, added once per burst of outcomes and attribute set rather than once
 * per message: the metrics SDK hashes a record's attributes on every call, and that hash cost as much as
 * the rest of a message's tracing. The counts of a burst are added in a microtask, before anything that
 * could collect them runs.
 *
 * @internal
 */
import type { Attributes, Counter } from '@opentelemetry/api';

/**
 * Counts by attribute set (by identity: a destination's shared attributes), added to the counter once
 * the synchronous work that counted them is done.
 *
 * @internal
 */
export class BatchedCount {
  private readonly pending = new Map<Attributes, number>();
  private counter: Counter | null = null;
  private scheduled = false;

  /** Counts one on `counter` with `attributes`. */
  add(counter: Counter, attributes: Attributes): void {
    // Another provider's counter: what was counted for the last one goes to the last one.
    if (counter !== this.counter) {
      this.flush();
      this.counter = counter;
    }
    this.pending.set(attributes, (this.pending.get(attributes) ?? 0) + 1);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const { counter } = this;
    if (counter === null) return;
    for (const [attributes, count] of this.pending) counter.add(count, attributes);
    this.pending.clear();
  };
}
