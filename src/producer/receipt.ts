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
   * Resolves with the message's outcome. It never rejects for transient faults (they are retried);
   * it rejects with `CLOSED` only if the producer closes first, in which case the message stays in the
   * journal and a later producer on the same journal finishes it.
   */
  readonly settled: Promise<Settlement>;
}

/**
 * A receipt whose promise is created only when someone reads `settled`: most callers never do, and a
 * promise per message is measurable at tens of thousands of messages per second.
 *
 * @internal
 */
export class Receipt implements PublishReceipt {
  private outcome: Settlement | FerryError | undefined;
  private promise: Promise<Settlement> | undefined;
  private resolvePromise: ((value: Settlement) => void) | undefined;
  private rejectPromise: ((error: FerryError) => void) | undefined;

  constructor(readonly messageId: string) {}

  get settled(): Promise<Settlement> {
    if (this.promise === undefined) {
      if (typeof this.outcome === 'string') {
        this.promise = Promise.resolve(this.outcome);
      } else if (this.outcome !== undefined) {
        this.promise = Promise.reject(this.outcome);
      } else {
        this.promise = new Promise<Settlement>((resolve, reject) => {
          this.resolvePromise = resolve;
          this.rejectPromise = reject;
        });
      }
      // A caller that reads `settled` but never awaits it must not crash the process on close.
      this.promise.catch(() => undefined);
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
    this.resolvePromise?.(outcome);
  }

  /** Rejects a waiting caller because the producer closed before the outcome was known. */
  abandon(error: FerryError): void {
    if (this.outcome !== undefined) return;
    this.outcome = error;
    this.rejectPromise?.(error);
  }
}
