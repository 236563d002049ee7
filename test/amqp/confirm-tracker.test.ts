import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfirmTracker, type SettleOutcome } from '../../src/amqp/confirm-tracker.js';

interface Entry {
  readonly id: number;
  readonly messageId: string;
}

type Settled = readonly [id: number, outcome: SettleOutcome, tag: number];

function tracker(initialCapacity = 4) {
  return new ConfirmTracker<Entry>({ messageId: (entry) => entry.messageId, initialCapacity });
}

function recorder() {
  const settled: Settled[] = [];
  return {
    settled,
    visit: (entry: Entry, outcome: SettleOutcome, tag: number) => settled.push([entry.id, outcome, tag]),
  };
}

const entry = (id: number): Entry => ({ id, messageId: `m${id}` });

describe('ConfirmTracker', () => {
  it('assigns consecutive tags from 1 and settles single and multiple acks in tag order', () => {
    const t = tracker();
    const tags = [1, 2, 3, 4, 5, 6].map((id) => t.track(entry(id), 100));
    expect(tags).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.nextTag).toBe(7);
    const { settled, visit } = recorder();
    expect(t.ack(3, false, visit)).toBe(1);
    expect(t.ack(4, true, visit)).toBe(3);
    expect(t.nack(6, false, visit)).toBe(1);
    expect(settled).toEqual([
      [3, 'confirmed', 3],
      [1, 'confirmed', 1],
      [2, 'confirmed', 2],
      [4, 'confirmed', 4],
      [6, 'nacked', 6],
    ]);
    expect(t.size).toBe(1);
    expect(t.nextDeadline()).toBe(100);
  });

  it('ignores late, duplicate and unknown acks without throwing', () => {
    const t = tracker();
    t.track(entry(1), 10);
    t.track(entry(2), 20);
    const { settled, visit } = recorder();
    expect(t.expire(10, visit)).toBe(1);
    expect(t.ack(1, false, visit)).toBe(0); // late: expired
    expect(t.ack(2, false, visit)).toBe(1);
    expect(t.ack(2, false, visit)).toBe(0); // duplicate
    expect(t.ack(99, true, visit)).toBe(0); // unknown
    expect(t.nack(-1, false, visit)).toBe(0);
    expect(settled).toEqual([
      [1, 'confirm-timeout', 1],
      [2, 'confirmed', 2],
    ]);
    expect(t.size).toBe(0);
    expect(t.nextDeadline()).toBeUndefined();
  });

  it('reports a returned entry as returned when its ack arrives', () => {
    const t = tracker();
    for (const id of [1, 2, 3]) t.track(entry(id), 100);
    expect(t.markReturned('m2')).toBe(2);
    expect(t.markReturned('nobody')).toBeUndefined();
    expect(t.markReturned(undefined)).toBeUndefined();
    const { settled, visit } = recorder();
    t.ack(3, true, visit);
    expect(settled).toEqual([
      [1, 'confirmed', 1],
      [2, 'returned', 2],
      [3, 'confirmed', 3],
    ]);
  });

  it('finds a return behind its cursor when returns come out of order', () => {
    const t = tracker();
    for (const id of [1, 2, 3]) t.track(entry(id), 100);
    expect(t.markReturned('m3')).toBe(3);
    expect(t.markReturned('m1')).toBe(1);
    const { settled, visit } = recorder();
    t.ack(3, true, visit);
    expect(settled.map(([, outcome]) => outcome)).toEqual(['returned', 'confirmed', 'returned']);
  });

  it('keeps deadlines non-decreasing, so one timer for the head is enough', () => {
    const t = tracker();
    t.track(entry(1), 50);
    t.track(entry(2), 30); // earlier than its predecessor: expires with it
    t.track(entry(3), 70);
    const { settled, visit } = recorder();
    expect(t.expire(40, visit)).toBe(0);
    expect(t.nextDeadline()).toBe(50);
    expect(t.expire(50, visit)).toBe(2);
    expect(t.oldestDeadline).toBe(70);
    expect(settled).toEqual([
      [1, 'confirm-timeout', 1],
      [2, 'confirm-timeout', 2],
    ]);
  });

  it('drains in tag order, restarts tags at 1 and lets the visitor track onto the new channel', () => {
    const t = tracker(2);
    for (const id of [1, 2, 3, 4, 5]) t.track(entry(id), 100);
    t.markReturned('m4');
    const { settled, visit } = recorder();
    t.ack(2, false, visit);
    const retracked: number[] = [];
    const drained = t.drain((e, outcome, tag) => {
      visit(e, outcome, tag);
      retracked.push(t.track(e, 200));
    });
    expect(drained).toBe(4);
    expect(settled).toEqual([
      [2, 'confirmed', 2],
      [1, 'channel-lost', 1],
      [3, 'channel-lost', 3],
      [4, 'returned', 4],
      [5, 'channel-lost', 5],
    ]);
    expect(retracked).toEqual([1, 2, 3, 4]);
    expect(t.size).toBe(4);
    expect(t.nextTag).toBe(5);
  });

  it('survives a visitor that tracks (and grows the buffer) in the middle of a multiple ack', () => {
    const t = tracker(2);
    for (const id of [1, 2]) t.track(entry(id), 100);
    const { settled, visit } = recorder();
    let next = 100;
    t.ack(2, true, (e, outcome, tag) => {
      visit(e, outcome, tag);
      for (let i = 0; i < 3; i += 1) {
        next += 1;
        t.track(entry(next), 100);
      }
    });
    expect(settled).toEqual([
      [1, 'confirmed', 1],
      [2, 'confirmed', 2],
    ]);
    expect(t.size).toBe(6);
    t.ack(0, true, visit); // tag 0 with multiple: everything outstanding
    expect(settled.slice(2).map(([id, , tag]) => [id, tag])).toEqual([
      [101, 3],
      [102, 4],
      [103, 5],
      [104, 6],
      [105, 7],
      [106, 8],
    ]);
  });
});

/** A deliberately naive model: a Map of everything outstanding. */
class Model {
  readonly live = new Map<number, { id: number; deadline: number; returned: boolean; messageId: string }>();
  nextTag = 1;
  lastDeadline = Number.NEGATIVE_INFINITY;

  track(id: number, deadline: number): number {
    this.lastDeadline = Math.max(deadline, this.lastDeadline);
    this.live.set(this.nextTag, { id, deadline: this.lastDeadline, returned: false, messageId: `m${id}` });
    return this.nextTag++;
  }

  settle(tags: readonly number[], outcome: SettleOutcome): Settled[] {
    return [...tags]
      .sort((a, b) => a - b)
      .map((tag) => {
        const e = this.live.get(tag)!;
        this.live.delete(tag);
        return [e.id, e.returned ? 'returned' : outcome, tag] as const;
      });
  }

  confirm(tag: number, multiple: boolean, outcome: SettleOutcome): Settled[] {
    const tags = [...this.live.keys()].filter((t) => (multiple ? tag === 0 || t <= tag : t === tag));
    return this.settle(tags, outcome);
  }

  markReturned(messageId: string): number | undefined {
    for (const [tag, e] of this.live) {
      if (e.messageId === messageId && !e.returned) {
        e.returned = true;
        return tag;
      }
    }
    return undefined;
  }

  expire(now: number): Settled[] {
    return this.settle(
      [...this.live].filter(([, e]) => e.deadline <= now).map(([tag]) => tag),
      'confirm-timeout',
    );
  }

  drain(): Settled[] {
    const settled = this.settle([...this.live.keys()], 'channel-lost');
    this.nextTag = 1;
    return settled;
  }
}

type Op =
  | { readonly kind: 'track'; readonly timeout: number }
  | { readonly kind: 'ack' | 'nack'; readonly pick: number; readonly multiple: boolean }
  | { readonly kind: 'return'; readonly pick: number }
  | { readonly kind: 'tick'; readonly by: number }
  | { readonly kind: 'drain' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('track' as const), timeout: fc.integer({ min: 1, max: 60 }) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constantFrom('ack' as const, 'nack' as const),
      pick: fc.nat(),
      multiple: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('return' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('tick' as const), by: fc.integer({ min: 0, max: 30 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'drain' as const }) },
);

describe('ConfirmTracker against a Map model', () => {
  it('settles every entry exactly once, with the same outcome and tag as the model', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.boolean(), (ops, constantTimeout) => {
        const t = tracker(2);
        const model = new Model();
        const settledIds = new Map<number, number>();
        let now = 0;
        let nextId = 1;
        const run = (
          expected: Settled[],
          act: (visit: (e: Entry, o: SettleOutcome, tag: number) => void) => void,
        ) => {
          const actual: Settled[] = [];
          act((e, outcome, tag) => {
            actual.push([e.id, outcome, tag]);
            settledIds.set(e.id, (settledIds.get(e.id) ?? 0) + 1);
          });
          expect(actual).toEqual(expected);
        };
        for (const o of ops) {
          switch (o.kind) {
            case 'track': {
              const id = nextId++;
              const deadline = now + (constantTimeout ? 25 : o.timeout);
              expect(t.track(entry(id), deadline)).toBe(model.track(id, deadline));
              break;
            }
            case 'ack':
            case 'nack': {
              // Tags up to two past the last one, and 0: unknown, late and duplicate acks included.
              const tag = o.pick % (model.nextTag + 2);
              const outcome = o.kind === 'ack' ? 'confirmed' : 'nacked';
              run(model.confirm(tag, o.multiple, outcome), (visit) => t[o.kind](tag, o.multiple, visit));
              break;
            }
            case 'return': {
              const messageId = `m${(o.pick % nextId) + 1}`;
              expect(t.markReturned(messageId)).toBe(model.markReturned(messageId));
              break;
            }
            case 'tick':
              now += o.by;
              run(model.expire(now), (visit) => t.expire(now, visit));
              break;
            case 'drain':
              run(model.drain(), (visit) => t.drain(visit));
              break;
          }
          expect(t.size).toBe(model.live.size);
          expect(t.nextTag).toBe(model.nextTag);
          const deadlines = [...model.live.values()].map((e) => e.deadline);
          expect(t.nextDeadline()).toBe(deadlines.length === 0 ? undefined : Math.min(...deadlines));
        }
        run(model.drain(), (visit) => t.drain(visit));
        expect(settledIds.size).toBe(nextId - 1);
        expect([...settledIds.values()].every((count) => count === 1)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
