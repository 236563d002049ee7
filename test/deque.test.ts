import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deque } from '../src/deque.js';

describe('Deque', () => {
  it('is a FIFO with push, shift, unshift and peek', () => {
    const deque = new Deque<number>();
    expect(deque.shift()).toBeUndefined();
    expect(deque.peek()).toBeUndefined();
    deque.push(1);
    deque.push(2);
    deque.unshift(0);
    expect(deque.length).toBe(3);
    expect(deque.peek()).toBe(0);
    expect([...deque]).toEqual([0, 1, 2]);
    expect(deque.shift()).toBe(0);
    expect(deque.shift()).toBe(1);
    expect(deque.shift()).toBe(2);
    expect(deque.length).toBe(0);
  });

  it('keeps order while growing past its initial capacity with the head wrapped around', () => {
    const deque = new Deque<number>();
    for (let i = 0; i < 10; i += 1) deque.push(i);
    for (let i = 0; i < 8; i += 1) deque.shift();
    for (let i = 10; i < 100; i += 1) deque.push(i);
    for (let i = 7; i >= 0; i -= 1) deque.unshift(i);
    expect([...deque]).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('behaves like an array under any sequence of operations', () => {
    const operation = fc.oneof(
      fc.record({ op: fc.constant('push' as const), value: fc.integer() }),
      fc.record({ op: fc.constant('unshift' as const), value: fc.integer() }),
      fc.record({ op: fc.constant('shift' as const) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 300 }), (operations) => {
        const deque = new Deque<number>();
        const model: number[] = [];
        for (const step of operations) {
          if (step.op === 'push') {
            deque.push(step.value);
            model.push(step.value);
          } else if (step.op === 'unshift') {
            deque.unshift(step.value);
            model.unshift(step.value);
          } else {
            expect(deque.shift()).toBe(model.shift());
          }
          expect(deque.length).toBe(model.length);
          expect(deque.peek()).toBe(model[0]);
        }
        expect([...deque]).toEqual(model);
      }),
    );
  });
});
