/**
 * The memory journal's live set while messages finish in the order they were accepted, as on the
 * healthy path: the accepted messages in a queue, and a finish that names the queue's front taking it
 * off. Nothing is looked up by id per message: the fold's map (an insert and a delete per message,
 * and the collector's work on a large table of young messages) cost about 1 µs of ferry's 8.7 per
 * message in bench/own-cpu.ts. Whatever else comes (a finish out of order, a failure, a reader asking) goes
 * through {@link InOrderLive.fold}, which is what {@link JournalState} folds from the same events.
 */
import { Deque } from '../deque.js';
import type { OutboundMessage } from '../message/outbound-message.js';
import { JournalState } from './fold.js';
import type { JournalEvent } from './journal.js';

/**
 * Accepted messages in acceptance order, finished from the front.
 *
 * @internal
 */
export class InOrderLive {
  /**
   * Oldest first. An id accepted again while live is here twice, as the events have it; the fold
   * keeps the later one, as {@link JournalState} does.
   */
  private readonly accepted = new Deque<OutboundMessage>();
  /** Accepts ever taken off the front: the position of the front message. */
  private front = 0;
  /**
   * Ids finished at the front, each with the position the next accept had then: a finish ends every
   * message with its id accepted before it, so a second copy of the id further back is ended too.
   * Kept while such a copy can still be in the queue.
   */
  private readonly finishedIds = new Deque<string>();
  private readonly finishedBefore = new Deque<number>();

  /**
   * Takes an event that keeps the order: an acceptance, or the finish of the front message (or of
   * anything while nothing is live, which the fold drops too). `false`: the event needs the fold.
   */
  take(event: JournalEvent): boolean {
    if (event.type === 'accepted') {
      this.accepted.push(event.message);
      return true;
    }
    if (event.type !== 'confirmed' && event.type !== 'dead-lettered') return false;
    const first = this.accepted.peek();
    if (first === undefined) return true;
    if (first.messageId !== event.messageId) return false;
    this.accepted.shift();
    this.front += 1;
    const { finishedIds, finishedBefore } = this;
    finishedIds.push(event.messageId);
    finishedBefore.push(this.front + this.accepted.length);
    // Positions only grow: what ends before the front can end nothing still queued.
    while ((finishedBefore.peek() ?? Number.POSITIVE_INFINITY) <= this.front) {
      finishedBefore.shift();
      finishedIds.shift();
    }
    return true;
  }

  /** The live messages as {@link JournalState} holds them after the same events. */
  fold(): JournalState {
    const endedBefore = new Map<string, number>();
    const before = [...this.finishedBefore];
    let index = 0;
    // Later finishes end later positions, so the last one of an id is the one that counts.
    for (const id of this.finishedIds) endedBefore.set(id, before[index++] as number);
    const state = new JournalState();
    let position = this.front;
    for (const message of this.accepted) {
      const ended = endedBefore.get(message.messageId);
      if (ended === undefined || ended <= position) state.apply({ type: 'accepted', message });
      position += 1;
    }
    return state;
  }
}
