/**
 * The receipt `publish()` returns: the message id at once, and the outcome when the broker settles it.
 */
import type { FerryError } from '../errors.js';

/** How an accepted message ended: queued by the broker, or handed to the dead-letter exchange. */
export type Settlement = 'confirmed' | 'dead-lettered';

/** What `publish()` resolves with once the message is accepted. */
export interface PublishReceipt {
  readonly messageId: string;
  /**
   * Resolves with the message's outcome. It rejects in one case only: `close()` finished while the
   * message was still buffered, in flight or retrying (`FerryError` `CLOSED`; the message stays in the
   * journal and a later producer on the same journal finishes it). Transient faults and a failed
   * `start()` never reject it. Made only when read, and never an unhandled rejection when nobody
   * awaits it; to follow every message's outcome without a promise per message, subscribe to
   * `producer.outcomes$`.
   */
  readonly settled: Promise<Settlement>;
}

const ignore = (): void => undefined;

/**
 * A receipt whose promise is created only when someone reads `settled`: most callers never do, and a
 * promise per message is measurable at tens of thousands of messages per second. It keeps only the
 * promise's resolve function: a close resolves it with a rejected promise, which rejects it the same.
 *
 * @internal
 */
export class Receipt implements PublishReceipt {
  private outcome: Settlement | FerryError | undefined;
  private promise: Promise<Settlement> | undefined;
  private resolvePromise: ((value: Settlement | Promise<never>) => void) | undefined;

  constructor(readonly messageId: string) {}

  get settled(): Promise<Settlement> {
    if (this.promise === undefined) {
      const { outcome } = this;
      if (outcome === undefined) {
        this.promise = new Promise<Settlement>((resolve) => {
          this.resolvePromise = resolve;
        });
      } else if (typeof outcome === 'string') {
        this.promise = Promise.resolve(outcome);
      } else {
        this.promise = rejectedQuietly(outcome);
      }
    }
    return this.promise;
  }

  /** Whether an outcome (or a close) has been recorded. */
  get isSettled(): boolean {
    return this.outcome !== undefined;
  }

  /** Records the outcome; later calls are ignored (an ack racing a timeout settles once). */
  settle(outcome: Settlement): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    const resolve = this.resolvePromise;
    this.resolvePromise = undefined;
    resolve?.(outcome);
  }

  /** Rejects a waiting caller because the producer closed before the outcome was known. */
  abandon(error: FerryError): void {
    if (this.outcome !== undefined) return;
    this.outcome = error;
    const resolve = this.resolvePromise;
    this.resolvePromise = undefined;
    if (resolve === undefined) return;
    // A caller that read `settled` but never awaits it must not crash the process on close.
    this.promise?.catch(ignore);
    resolve(Promise.reject(error));
  }

  /** A receipt logged or serialised shows its message id, never the message it stands for. */
  toJSON(): { messageId: string } {
    return { messageId: this.messageId };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `PublishReceipt { messageId: ${JSON.stringify(this.messageId)} }`;
  }
}

function rejectedQuietly(error: FerryError): Promise<never> {
  const promise = Promise.reject(error);
  promise.catch(ignore);
  return promise;
}
