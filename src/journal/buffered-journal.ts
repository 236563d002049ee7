/**
 * What the durable backends share: the fold kept in memory (so `pendingCount()` and late events need
 * no I/O), group commit, lazy opening, and compaction of each batch before it is written.
 *
 * @internal
 */

import { emitFerryWarning } from '../warnings.js';
import { eventMessageId, isFinishing, JournalState } from './fold.js';
import { GroupCommit } from './group-commit.js';
import type { Journal, JournalEvent, PendingMessage } from './journal.js';
import type { BatchingOptions } from './journal-config.js';

export type { BatchingOptions } from './journal-config.js';

/** One write of a compacted batch. */
export type BatchOp =
  | { readonly op: 'insert'; readonly event: JournalEvent }
  | { readonly op: 'delete'; readonly messageId: string; readonly outcome: 'confirmed' | 'dead-lettered' };

/**
 * Compacts a batch: a finished message's rows are deleted, and its events from earlier in the same
 * batch are not written at all.
 */
export function compactBatch(batch: readonly JournalEvent[]): BatchOp[] {
  const lastFinish = new Map<string, number>();
  batch.forEach((event, index) => {
    if (isFinishing(event)) lastFinish.set(eventMessageId(event), index);
  });
  const ops: BatchOp[] = [];
  batch.forEach((event, index) => {
    const id = eventMessageId(event);
    if (event.type === 'confirmed' || event.type === 'dead-lettered') {
      if (lastFinish.get(id) === index) ops.push({ op: 'delete', messageId: id, outcome: event.type });
    } else if ((lastFinish.get(id) ?? -1) < index) {
      ops.push({ op: 'insert', event });
    }
  });
  return ops;
}

/** The base of the durable journals (`SqliteJournal`, `RedisJournal`): what they share, above. */
export abstract class BufferedJournal implements Journal {
  abstract readonly kind: string;
  abstract readonly durable: boolean;
  protected readonly state = new JournalState();
  private readonly commits: GroupCommit<JournalEvent>;
  private opening: Promise<readonly PendingMessage[]> | null = null;
  private opened = false;

  constructor(options: BatchingOptions) {
    this.commits = new GroupCommit((batch) => this.writeRefusing(batch), {
      delayMs: options.groupCommitMs ?? 0,
      maxBatch: options.maxBatch ?? 2_000,
      onError:
        options.onError ??
        ((error) => emitFerryWarning('FerryJournalWarning', 'a journal write failed', error)),
    });
  }

  /** Opens the store once; an open that failed is not kept: the next call tries again. */
  open(): Promise<readonly PendingMessage[]> {
    this.opening ??= this.load().then(
      (records) => {
        this.state.adopt(records);
        this.opened = true;
        this.commits.start();
        return records;
      },
      (error: unknown) => {
        this.opening = null;
        throw error;
      },
    );
    return this.opening;
  }

  append(event: JournalEvent): void {
    // A late event of a message that finished (or never was accepted here) changes nothing.
    if (event.type !== 'accepted' && !this.state.has(eventMessageId(event))) return;
    this.state.apply(event);
    this.commits.add(event);
  }

  commit(): Promise<void> {
    const opening = this.open();
    return this.opened ? this.commits.flushed() : opening.then(() => this.commits.flushed());
  }

  pendingCount(): number {
    return this.state.size;
  }

  async close(): Promise<void> {
    if (this.opening === null) return;
    const opened = await this.opening.then(
      () => true,
      () => false,
    );
    if (opened) await this.commits.drain();
    await this.closeStore(opened);
  }

  /**
   * Writes a batch. When the write fails, the messages it accepted are refused (their `publish()`
   * rejects), so they are no longer counted as held here.
   */
  private async writeRefusing(batch: readonly JournalEvent[]): Promise<void> {
    try {
      await this.write(compactBatch(batch));
    } catch (error) {
      for (const event of batch) if (event.type === 'accepted') this.state.forget([event.message.messageId]);
      throw error;
    }
  }

  /** Opens the store and folds what it holds. */
  protected abstract load(): Promise<readonly PendingMessage[]>;
  /** Writes one compacted batch; durable when it resolves. */
  protected abstract write(ops: readonly BatchOp[]): void | Promise<void>;
  /** Releases the store; `opened` is false when opening failed. */
  protected abstract closeStore(opened: boolean): Promise<void>;
}
