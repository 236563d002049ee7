import { afterEach, describe, expect, it, vi } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { Outbox } from '../../src/producer/outbox.js';
import { rejection } from './helpers.js';

const item = (bytes: number) => ({ bytes });

/** Whether a promise has settled, after the microtasks queued so far ran. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Outbox', () => {
  it('is a FIFO that counts messages and bytes; unshift puts back at the front', () => {
    const outbox = new Outbox<{ bytes: number }>(10, 1_000);
    const [a, b, c] = [item(10), item(20), item(30)];
    outbox.push(a);
    outbox.push(b);
    outbox.unshift(c);
    expect(outbox.length).toBe(3);
    expect(outbox.byteLength).toBe(60);
    expect(outbox.peek()).toBe(c);
    expect([...outbox.items()]).toEqual([c, a, b]);
    expect(outbox.shift()).toBe(c);
    expect(outbox.byteLength).toBe(30);
    expect(outbox.shift()).toBe(a);
    expect(outbox.shift()).toBe(b);
    expect(outbox.shift()).toBeUndefined();
    expect(outbox.byteLength).toBe(0);
  });

  it('has room while both the count and the byte limit hold', () => {
    const outbox = new Outbox<{ bytes: number }>(3, 100);
    outbox.push(item(40));
    expect(outbox.hasRoom(60)).toBe(true);
    expect(outbox.hasRoom(61)).toBe(false);
    expect(outbox.hasRoom(10, 2)).toBe(true);
    expect(outbox.hasRoom(10, 3)).toBe(false);
    outbox.push(item(1));
    outbox.push(item(1));
    expect(outbox.hasRoom(0)).toBe(false);
  });

  it('wakes waiting callers in arrival order as room frees up', async () => {
    const outbox = new Outbox<{ bytes: number }>(2, 1_000);
    outbox.push(item(1));
    outbox.push(item(1));
    const order: string[] = [];
    const first = outbox.waitForRoom(1, 60_000).then(() => order.push('first'));
    const second = outbox.waitForRoom(1, 60_000).then(() => order.push('second'));
    expect(outbox.waiting).toBe(2);
    // Someone new does not jump the queue even though nothing is buffered beyond the limit.
    expect(outbox.hasRoom(1)).toBe(false);

    outbox.shift();
    await first;
    expect(await isSettled(second)).toBe(false);
    outbox.push(item(1));
    outbox.shift();
    await second;
    expect(order).toEqual(['first', 'second']);
    expect(outbox.waiting).toBe(0);
  });

  it('a big waiter at the front is not overtaken by a small one behind it', async () => {
    const outbox = new Outbox<{ bytes: number }>(10, 100);
    outbox.push(item(50));
    outbox.push(item(50));
    const big = outbox.waitForRoom(80, 60_000);
    const small = outbox.waitForRoom(10, 60_000);
    outbox.shift();
    expect(await isSettled(big)).toBe(false);
    expect(await isSettled(small)).toBe(false);
    outbox.shift();
    await big;
    outbox.rejectWaiters(new FerryError('CLOSED', 'closed'));
    expect((await rejection(small)).code).toBe('CLOSED');
  });

  it('rejects BUFFER_FULL after the timeout, and a timed-out waiter no longer blocks others', async () => {
    vi.useFakeTimers();
    const outbox = new Outbox<{ bytes: number }>(1, 100);
    outbox.push(item(1));
    const waiting = rejection(outbox.waitForRoom(1, 500));
    vi.advanceTimersByTime(499);
    expect(await isSettledFake(waiting)).toBe(false);
    vi.advanceTimersByTime(1);
    const error = await waiting;
    expect(error.code).toBe('BUFFER_FULL');
    expect(error.message).toContain('500 ms');

    const next = outbox.waitForRoom(1, 500);
    outbox.shift();
    await expect(next).resolves.toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once what could never fit', async () => {
    const outbox = new Outbox<{ bytes: number }>(5, 100);
    expect((await rejection(outbox.waitForRoom(101, 60_000))).code).toBe('BUFFER_FULL');
    expect((await rejection(outbox.waitForRoom(1, 60_000, 6))).code).toBe('BUFFER_FULL');
    expect(outbox.waiting).toBe(0);
  });

  it('rejectWaiters rejects everyone waiting and clears their timers', async () => {
    vi.useFakeTimers();
    const outbox = new Outbox<{ bytes: number }>(1, 100);
    outbox.push(item(1));
    const waiting = [rejection(outbox.waitForRoom(1, 500)), rejection(outbox.waitForRoom(1, 500))];
    expect(vi.getTimerCount()).toBe(2);
    outbox.rejectWaiters(new FerryError('CLOSED', 'closing'));
    expect((await Promise.all(waiting)).map((e) => e.code)).toEqual(['CLOSED', 'CLOSED']);
    expect(vi.getTimerCount()).toBe(0);
    expect(outbox.waiting).toBe(0);
  });
});

/** {@link isSettled} under fake timers: microtasks only. */
async function isSettledFake(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => {
    settled = true;
  });
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
  return settled;
}
