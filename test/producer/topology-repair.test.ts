import { expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { TopologyRepair } from '../../src/producer/topology-repair.js';

/** A repair on a clock the test moves, whose declarations the test settles by hand. */
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
    },
  };
}

it('declares at most once per interval', async () => {
  const { repair, declarations, advance } = repairRig();
  const first = repair.request();
  expect(declarations).toHaveLength(1);
  declarations[0]!.resolve();
  await first;

  advance(999);
  expect(repair.request()).toBeUndefined();
  expect(declarations).toHaveLength(1);

  advance(1);
  const second = repair.request();
  expect(second).toBeInstanceOf(Promise);
  expect(declarations).toHaveLength(2);
  declarations[1]!.resolve();
  await second;
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
