/**
 * Fencing of the redis journal (issue 21, items 1-3): a lease lost under a live instance strands
 * nothing, a claim moves only what it read, undecodable entries are skipped and reported, close
 * leaves only when the store owns nothing, and an instance never claims what it holds.
 *
 * Lease expiry is simulated by deleting the lease key (what a lapse does), and leases are long, so
 * the renew timers never race the steps; the stall test alone lets a short lease lapse for real.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JournalEvent, PendingMessage } from '../../src/journal/journal.js';
import type { RedisJournal } from '../../src/journal/redis-journal.js';
import { outbound } from './fixtures.js';
import { redisTestBed } from './redis-support.js';

const LONG_LEASE_MS = 30_000;
const { journal, prefix, raw, die, cleanup } = redisTestBed({
  leaseMs: LONG_LEASE_MS,
  onError: () => undefined,
});
afterEach(cleanup);

async function accept(target: RedisJournal, ...ids: string[]): Promise<void> {
  for (const id of ids) target.append({ type: 'accepted', message: outbound(id) });
  await target.commit();
}

const ids = (records: readonly PendingMessage[]): string[] => records.map((r) => r.message.messageId).sort();

/** Claims until `done` holds for everything claimed so far, or the deadline passes. */
async function claimUntil(
  claimer: RedisJournal,
  done: (claimed: readonly PendingMessage[]) => boolean,
): Promise<PendingMessage[]> {
  const claimed: PendingMessage[] = [];
  const deadline = Date.now() + 5_000;
  while (!done(claimed) && Date.now() < deadline) {
    claimed.push(...(await claimer.claim()));
    if (!done(claimed)) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return claimed;
}

describe('redis journal fencing', () => {
  it('a message accepted after its instance lost its lease to a claim is claimed once that instance dies', async () => {
    const keys = prefix('late');
    const first = journal(keys, 'first');
    const claimer = journal(keys, 'claimer');
    await first.open();
    await claimer.open();
    await accept(first, 'x');
    // The lease lapses under the live instance (a stall, a partition), and another claims its set.
    await raw().del(`${keys}:lease:first`);
    expect(ids(await claimer.claim())).toEqual(['x']);

    // Its next write is refused, it owns again under a new name, and what it holds goes with it.
    await accept(first, 'late');
    expect(first.instanceId).not.toBe('first');
    expect(await raw().exists(`${keys}:owned:first`)).toBe(0);
    expect((await raw().smembers(`${keys}:owned:${first.instanceId}`)).sort()).toEqual(['late', 'x']);

    die(first);
    await raw().del(`${keys}:lease:${first.instanceId}`);
    const later = journal(keys, 'later');
    await later.open();
    const claimed = await claimUntil(later, (got) => got.some((r) => r.message.messageId === 'late'));
    expect(ids(claimed)).toEqual(['late', 'x']);
  });

  it('a claim skips and reports an undecodable entry, claims the rest, and sets the unreadable id aside', async () => {
    const keys = prefix('corrupt');
    const dead = journal(keys, 'dead');
    await dead.open();
    await accept(dead, 'a', 'b');
    const redis = raw();
    const badFailure = await redis.xadd(`${keys}:events`, '*', 'm', 'b', 't', 'failed', 'a', '1', 'd', '{');
    const badAccept = await redis.xadd(`${keys}:events`, '*', 'm', 'c', 't', 'accepted', 'a', '1', 'd', '{}');
    const noId = await redis.xadd(`${keys}:events`, '*', 'junk', '1');
    await redis.sadd(`${keys}:owned:dead`, 'c');
    die(dead);
    await redis.del(`${keys}:lease:dead`);

    const errors: string[] = [];
    const survivor = journal(keys, 'survivor', { onError: (error) => errors.push(String(error)) });
    await survivor.open();
    const claimed = await survivor.claim();
    expect(ids(claimed)).toEqual(['a', 'b']);
    expect(claimed.find((r) => r.message.messageId === 'b')?.state).toBe('pending');
    const reported = errors.join('\n');
    for (const entry of [badFailure, badAccept, noId]) expect(reported).toContain(entry);
    expect(await redis.smembers(`${keys}:unreadable`)).toEqual(['c']);
    expect((await redis.smembers(`${keys}:owned:survivor`)).sort()).toEqual(['a', 'b']);
    expect(await redis.sismember(`${keys}:instances`, 'dead')).toBe(0);
  });

  it('an instance restarted under its name opens past an undecodable entry of its own', async () => {
    const keys = prefix('reopen-corrupt');
    const one = journal(keys, 'one');
    await one.open();
    await accept(one, 'a');
    const redis = raw();
    await redis.xadd(`${keys}:events`, '*', 'm', 'z', 't', 'accepted', 'a', '1', 'd', 'not json', 'c', 'x');
    await redis.sadd(`${keys}:owned:one`, 'z');
    die(one);
    const errors: unknown[] = [];
    const again = journal(keys, 'one', { onError: (error) => errors.push(error) });
    expect(ids(await again.open())).toEqual(['a']);
    expect(errors).toHaveLength(1);
    expect(await redis.smembers(`${keys}:unreadable`)).toEqual(['z']);
  });

  it('close leaves the registry only when the store says the instance owns nothing', async () => {
    const keys = prefix('leave');
    const writer = journal(keys, 'writer');
    const holder = journal(keys, 'holder');
    await writer.open();
    await holder.open();
    await accept(writer, 'ghost');
    die(writer);
    // Moved to the holder without being read into its memory (a claim whose read failed).
    const redis = raw();
    await redis.smove(`${keys}:owned:writer`, `${keys}:owned:holder`, 'ghost');
    await redis.srem(`${keys}:instances`, 'writer');
    expect(holder.pendingCount()).toBe(0);
    await holder.close();
    expect(await redis.sismember(`${keys}:instances`, 'holder')).toBe(1);

    await redis.del(`${keys}:lease:holder`);
    const next = journal(keys, 'next');
    await next.open();
    expect(ids(await next.claim())).toEqual(['ghost']);
  });

  it('after a stall longer than its lease, an instance keeps its name and claims none of its own messages', async () => {
    const keys = prefix('stall');
    const one = journal(keys, 'one', { leaseMs: 300 });
    await one.open();
    await accept(one, 'm1', 'm2', 'm3');
    const redis = raw();
    const before = await redis.get(`${keys}:lease:one`);
    // The event loop stalls for over three leases: nothing renews, the lease lapses in Redis.
    const stallUntil = Date.now() + 1_000;
    while (Date.now() < stallUntil) {
      // busy: the stall itself
    }
    // Owned again once a lease under its name carries a new token.
    const owner = async (): Promise<string | null> => redis.get(`${keys}:lease:${one.instanceId}`);
    const deadline = Date.now() + 5_000;
    while ([null, before].includes(await owner()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await accept(one, 'm4');
    const claimed: PendingMessage[] = [];
    for (let round = 0; round < 3; round += 1) claimed.push(...(await one.claim()));
    expect(ids(claimed)).toEqual([]);
    expect(one.pendingCount()).toBe(4);
    expect((await redis.smembers(`${keys}:owned:${one.instanceId}`)).sort()).toEqual([
      'm1',
      'm2',
      'm3',
      'm4',
    ]);
  });

  it('a claim never hands over a message this instance already holds, even registered by another', async () => {
    const keys = prefix('held');
    const holder = journal(keys, 'holder');
    const other = journal(keys, 'other');
    await holder.open();
    await other.open();
    await accept(holder, 'x');
    // Two records for one id: the other instance registered x too (as a rejoin re-registers).
    const events: JournalEvent[] = [
      { type: 'accepted', message: outbound('x') },
      { type: 'accepted', message: outbound('y') },
    ];
    for (const event of events) other.append(event);
    await other.commit();
    die(other);
    await raw().del(`${keys}:lease:other`);
    expect(ids(await holder.claim())).toEqual(['y']);
    expect(holder.pendingCount()).toBe(2);
    expect(await raw().sismember(`${keys}:instances`, 'other')).toBe(0);
  });
});
