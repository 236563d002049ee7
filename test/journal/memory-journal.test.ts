/**
 * The memory journal keeps messages finishing in acceptance order in a queue instead of the fold's
 * map: whatever the events, it must hold what the fold of the same events holds, ids accepted twice
 * and finishes out of order included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldJournal } from '../../src/journal/fold.js';
import type { JournalEvent } from '../../src/journal/journal.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { outbound } from './fixtures.js';

const IDS = ['a', 'b', 'c', 'd'] as const;
const failure = { code: 'NACKED', message: 'nacked', permanent: false };

/** One event, or `front`: the finish of the oldest message accepted and not yet finished. */
type Step =
  | { readonly kind: 'accepted' | 'confirmed' | 'dead-lettered' | 'failed' | 'parked'; readonly id: string }
  | { readonly kind: 'front'; readonly outcome: 'confirmed' | 'dead-lettered' };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('accepted' as const), id: fc.constantFrom(...IDS) }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('front' as const),
      outcome: fc.constantFrom('confirmed' as const, 'dead-lettered' as const),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constantFrom(
        'confirmed' as const,
        'dead-lettered' as const,
        'failed' as const,
        'parked' as const,
      ),
      id: fc.constantFrom(...IDS),
    }),
    weight: 2,
  },
);

/** The events of `steps`, `front` resolved against the acceptances before it. */
function eventsOf(steps: readonly Step[]): JournalEvent[] {
  const events: JournalEvent[] = [];
  const unfinished: string[] = [];
  steps.forEach((step, at) => {
    if (step.kind === 'front') {
      const id = unfinished.shift();
      if (id !== undefined) events.push({ type: step.outcome, messageId: id, at });
      return;
    }
    const { id } = step;
    if (step.kind === 'accepted') {
      unfinished.push(id);
      events.push({ type: 'accepted', message: outbound(id, 16, at) });
    } else if (step.kind === 'failed') {
      events.push({ type: 'failed', messageId: id, attempts: 1, failure, at, random: at });
    } else if (step.kind === 'parked') {
      events.push({ type: 'parked', messageId: id, at, deadLetterFailures: 1, retryAt: at + 1_000 });
    } else {
      events.push({ type: step.kind, messageId: id, at });
    }
  });
  return events;
}

describe('MemoryJournal', () => {
  it('holds what the fold of the same events holds, after every event', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const events = eventsOf(steps);
        const journal = new MemoryJournal();
        events.forEach((event, index) => {
          journal.append(event);
          const folded = foldJournal(events.slice(0, index + 1));
          expect(journal.snapshot()).toEqual(folded.pending());
          expect(journal.pendingCount()).toBe(folded.size);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('a finish at the front ends a second copy of its id accepted before it, not one accepted after', async () => {
    const journal = new MemoryJournal();
    journal.append({ type: 'accepted', message: outbound('a') });
    journal.append({ type: 'accepted', message: outbound('b') });
    journal.append({ type: 'accepted', message: outbound('a') });
    journal.append({ type: 'confirmed', messageId: 'a', at: 1 });
    const ids = async (): Promise<string[]> =>
      (await journal.open()).map((pending) => pending.message.messageId);
    expect(await ids()).toEqual(['b']);
    journal.append({ type: 'accepted', message: outbound('a') });
    expect(await ids()).toEqual(['b', 'a']);
  });
});
