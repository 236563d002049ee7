import { afterEach, describe, expect, it } from 'vitest';
import { foldJournal } from '../../src/journal/fold.js';
import type { JournalEvent } from '../../src/journal/journal.js';
import { JournalError } from '../../src/journal/journal-error.js';
import { outbound } from './fixtures.js';
import { redisTestBed } from './redis-support.js';

const failure = { code: 'NACKED', message: 'nacked', permanent: false };
const HISTORY: JournalEvent[] = [
  { type: 'accepted', message: outbound('a') },
  { type: 'accepted', message: outbound('b') },
  { type: 'accepted', message: outbound('c') },
  { type: 'accepted', message: outbound('d') },
  { type: 'failed', messageId: 'b', attempts: 1, failure, at: 11, random: 77 },
  { type: 'retry-scheduled', messageId: 'b', delayMs: 1_200, retryAt: 1_211, random: 78, at: 11 },
  { type: 'failed', messageId: 'c', attempts: 3, failure, at: 12, random: 5 },
  { type: 'parked', messageId: 'c', deadLetterFailures: 1, retryAt: 60_012, at: 12 },
  { type: 'confirmed', messageId: 'd', at: 13 },
];

const { journal, prefix, raw, die, cleanup } = redisTestBed({ leaseMs: 5_000 });
afterEach(cleanup);

describe('redis journal', () => {
  it('an instance restarted under its name folds its own events back, like the memory fold', async () => {
    const keys = prefix('reopen');
    const first = journal(keys, 'one');
    await first.open();
    for (const event of HISTORY) first.append(event);
    await first.commit();
    die(first);

    const again = journal(keys, 'one');
    const recovered = await again.open();
    expect(recovered).toEqual(foldJournal(HISTORY).pending());
    expect(Buffer.isBuffer(recovered[0]?.message.properties.headers?.raw)).toBe(true);
  });

  it('compacts: a finished message leaves no stream entries and no ownership behind', async () => {
    const keys = prefix('compact');
    const one = journal(keys, 'one');
    await one.open();
    for (let n = 0; n < 100; n += 1) one.append({ type: 'accepted', message: outbound(`m-${n}`, 1_024) });
    await one.commit();
    one.append({ type: 'failed', messageId: 'm-0', attempts: 1, failure, at: 1, random: 1 });
    await one.commit();
    const redis = raw();
    expect(await redis.xlen(`${keys}:events`)).toBe(101);
    for (let n = 0; n < 100; n += 1) one.append({ type: 'confirmed', messageId: `m-${n}`, at: n });
    await one.commit();
    expect(await redis.xlen(`${keys}:events`)).toBe(0);
    expect(await redis.scard(`${keys}:owned:one`)).toBe(0);
    expect(await redis.hget(`${keys}:totals`, 'confirmed')).toBe('100');
    await one.close();
    // Nothing left to own: the instance leaves the registry at once.
    expect(await redis.sismember(`${keys}:instances`, 'one')).toBe(0);
  });

  it("claims a dead instance's unfinished messages once its lease expired, not before", async () => {
    const keys = prefix('claim');
    const dead = journal(keys, 'dead', { leaseMs: 400 });
    await dead.open();
    for (const event of HISTORY) dead.append(event);
    await dead.commit();
    die(dead);

    const survivor = journal(keys, 'survivor', { leaseMs: 400 });
    await survivor.open();
    expect(await survivor.claim()).toEqual([]);
    const deadline = Date.now() + 5_000;
    let claimed = await survivor.claim();
    while (claimed.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      claimed = await survivor.claim();
    }
    expect(claimed).toEqual(foldJournal(HISTORY).pending());
    expect(survivor.pendingCount()).toBe(3);
    const redis = raw();
    expect(await redis.exists(`${keys}:owned:dead`)).toBe(0);
    expect(await redis.get(`${keys}:lease:dead`)).toBe('claimed-by:survivor');
    expect((await redis.smembers(`${keys}:owned:survivor`)).sort()).toEqual(['a', 'b', 'c']);
    // Claimed once: a second claim finds nothing.
    expect(await survivor.claim()).toEqual([]);

    for (const id of ['a', 'b', 'c']) survivor.append({ type: 'confirmed', messageId: id, at: 1 });
    await survivor.commit();
    expect(await redis.xlen(`${keys}:events`)).toBe(0);
  });

  it('an instance whose lease was claimed rejoins under a new name and registers what it holds there', async () => {
    const keys = prefix('fenced');
    const paused = journal(keys, 'paused', { leaseMs: 150 });
    await paused.open();
    paused.append({ type: 'accepted', message: outbound('x') });
    await paused.commit();
    // Another instance claimed it while it was paused.
    await raw().set(`${keys}:lease:paused`, 'claimed-by:other', 'PX', 10_000);
    await raw().srem(`${keys}:owned:paused`, 'x');
    const deadline = Date.now() + 3_000;
    while (paused.instanceId === 'paused' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(paused.instanceId).toBe('paused~1');
    expect(paused.pendingCount()).toBe(1);
    paused.append({ type: 'accepted', message: outbound('y') });
    await paused.commit();
    expect((await raw().smembers(`${keys}:owned:paused~1`)).sort()).toEqual(['x', 'y']);
  });

  it('refuses a journal written by a newer ferry and leaves it as it was', async () => {
    const keys = prefix('newer');
    await raw().set(`${keys}:schema`, '99');
    const error = await journal(keys, 'one')
      .open()
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );
    expect(error).toBeInstanceOf(JournalError);
    expect((error as JournalError).code).toBe('JOURNAL_TOO_NEW');
    expect(await raw().keys(`${keys}:*`)).toEqual([`${keys}:schema`]);
  });
});
