import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { TopologyRepair } from '../../src/producer/topology-repair.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A repair on a clock the test moves (its timers too), whose declarations the test settles by hand. */
function repairRig() {
  let time = 0;
  const declarations: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  const errors: FerryError[] = [];
  const repair = new TopologyRepair({
    declare: () => new Promise((resolve, reject) => declarations.push({ resolve, reject })),
    now: () => time,
    intervalMs: 1_000,
    onError: (error) => errors.push(error),
  });
  return {
    repair,
    declarations,
    errors,
    advance: (ms: number) => {
      time += ms;
      vi.advanceTimersByTime(ms);
    },
  };
}

it('declares at most once per interval; a request within it waits for its end instead of being dropped', async () => {
  const { repair, declarations, advance } = repairRig();
  const first = repair.request();
  expect(declarations).toHaveLength(1);
  declarations[0]!.resolve();
  await first;

  advance(400);
  const deferred = repair.request();
  expect(repair.request()).toBe(deferred);
  expect(declarations).toHaveLength(1);
  advance(599);
  expect(declarations).toHaveLength(1);

  advance(1);
  expect(declarations).toHaveLength(2);
  let done = false;
  void deferred.then(() => {
    done = true;
  });
  await Promise.resolve();
  expect(done).toBe(false);
  declarations[1]!.resolve();
  await deferred;

  advance(1_000);
  const third = repair.request();
  expect(third).not.toBe(deferred);
  expect(declarations).toHaveLength(3);
});

it('stop cancels a deferred declaration and its waiters go on', async () => {
  const { repair, declarations, advance } = repairRig();
  void repair.request();
  declarations[0]!.resolve();
  const deferred = repair.request();
  repair.stop();
  await expect(deferred).resolves.toBeUndefined();
  advance(5_000);
  await repair.request();
  expect(declarations).toHaveLength(1);
});

it('never runs two declarations at once: requests meanwhile get the running one', async () => {
  const { repair, declarations, advance } = repairRig();
  const first = repair.request();
  advance(5_000);
  expect(repair.request()).toBe(first);
  expect(declarations).toHaveLength(1);

  declarations[0]!.resolve();
  await first;
  const next = repair.request();
  expect(next).not.toBe(first);
  expect(declarations).toHaveLength(2);
});

it('reports a failed declaration and resolves: the caller goes on', async () => {
  const { repair, declarations, errors, advance } = repairRig();
  const failing = repair.request();
  declarations[0]!.reject(new FerryError('TOPOLOGY_MISMATCH', 'queue tasks exists with other arguments'));
  await expect(failing).resolves.toBeUndefined();
  expect(errors.map((error) => error.code)).toEqual(['TOPOLOGY_MISMATCH']);

  advance(1_000);
  repair.request();
  expect(declarations).toHaveLength(2);
});
