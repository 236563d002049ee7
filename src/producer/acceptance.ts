/**
 * Acceptance: a caller's messages validated and encoded, room waited for in the outbox (backpressure),
 * journaled in one commit, then written at once or buffered. From the commit on, ferry owns them.
 *
 * @internal
 */
import { FerryError } from '../errors.js';
import type { Journal } from '../journal/journal.js';
import { Accepted } from './accepted.js';
import type { Ledger } from './ledger.js';
import type { Outbox } from './outbox.js';
import { type PublishRequest, type RequestLimits, toOutboundMessage } from './publish-request.js';
import type { Publisher } from './publisher.js';

/** What {@link Acceptance} works with. */
export interface AcceptanceDependencies {
  readonly journal: Journal;
  readonly outbox: Outbox<Accepted>;
  readonly publisher: Publisher;
  readonly ledger: Ledger;
}

/** Validation limits and how long a caller waits for room. */
export interface AcceptanceSettings extends RequestLimits {
  readonly bufferTimeoutMs: number;
}

/**
 * Validation, backpressure and the journal commit of `publish` and `publishMany`.
 *
 * @internal
 */
export class Acceptance {
  /** Messages of calls between validation and their hand-off to the outbox or the channel. */
  private accepting = 0;

  constructor(
    private readonly dependencies: AcceptanceDependencies,
    private readonly settings: AcceptanceSettings,
  ) {}

  /** Whether no message is between validation and its hand-off (waiting for room or its commit). */
  get idle(): boolean {
    return this.accepting === 0;
  }

  /**
   * Validates and encodes a batch, synchronously: once it returns, the caller's request objects are
   * no longer referenced, so a caller issuing many batches without awaiting them holds only the
   * encoded messages.
   *
   * @throws FerryError `INVALID_MESSAGE`; for a batch, naming the index of the first bad message.
   */
  prepare(requests: readonly PublishRequest[], now: number): Accepted[] {
    const batch = new Array<Accepted>(requests.length);
    for (let index = 0; index < requests.length; index += 1) {
      try {
        batch[index] = new Accepted(toOutboundMessage(requests[index] as PublishRequest, now, this.settings));
      } catch (error) {
        if (requests.length === 1 || !(error instanceof FerryError)) throw error;
        throw new FerryError('INVALID_MESSAGE', `message ${index}: ${error.message}`, {
          details: { index, ...error.details },
        });
      }
    }
    return this.dependencies.ledger.starting(batch);
  }

  /** Journals a prepared batch, then sends it or buffers it. */
  async accept(batch: Accepted[]): Promise<Accepted[]> {
    const { journal, outbox, publisher, ledger } = this.dependencies;
    let bytes = 0;
    for (let i = 0; i < batch.length; i += 1) bytes += (batch[i] as Accepted).bytes;
    this.accepting += batch.length;
    try {
      if (!publisher.canSendNow() && !outbox.hasRoom(bytes, batch.length)) {
        await outbox.waitForRoom(bytes, this.settings.bufferTimeoutMs, batch.length);
      }
      for (const accepted of batch) journal.append({ type: 'accepted', message: accepted.message });
      await journal.commit();
    } catch (error) {
      this.accepting -= batch.length;
      ledger.refused(batch, FerryError.from(error));
      ledger.idle.check();
      throw error;
    }
    this.accepting -= batch.length;
    ledger.accepted(batch);
    for (const accepted of batch) {
      if (publisher.canSendNow()) publisher.sendNow(accepted);
      else outbox.push(accepted);
    }
    publisher.pump();
    ledger.idle.check();
    // Acceptance that never leaves the microtask queue (the memory journal commits at once) would let
    // a loop of awaited publishes run without the socket ever being written, or acks and heartbeats
    // read: while messages wait in the outbox, the event loop turns once before the promise resolves.
    if (outbox.length > 0) await nextTurn();
    return batch;
  }
}

/** Resolves on the next turn of the event loop, after pending I/O callbacks. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
