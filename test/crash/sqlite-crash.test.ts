/**
 * ferry killed with SIGKILL mid-stream, on the sqlite journal and the real broker: a child publishes
 * 20,000 messages and is killed at a different random moment in each run; a new process on the same
 * journal finishes the work; then a consumer counts. Every accepted message must arrive (lost = 0), and
 * only messages whose outcome was unknown at the kill (unfinished in the journal the killed process
 * left) may arrive twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { foldReader, openJournalReader } from '../../src/journal/reader.js';
import {
  BROKER_URL,
  Child,
  deleteTopology,
  drainQueue,
  killChildren,
  runToExit,
  runTopology,
  score,
} from './support.js';

afterEach(killChildren);

const COUNT = 20_000;
const dir = mkdtempSync(join(tmpdir(), 'ferry-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Kill points, as accepted-message counts: early, middle, and after the last accept (confirms in flight). */
const seed = Number(process.env.FERRY_CRASH_SEED ?? Date.now() % 100_000);
function killPoints(): number[] {
  let state = seed;
  const next = (): number => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  return [
    Math.floor(500 + next() * 5_000),
    Math.floor(7_000 + next() * 8_000),
    Math.floor(16_000 + next() * 4_000),
  ];
}

describe(`crash: SIGKILL mid-stream on the sqlite journal (seed ${seed})`, () => {
  it.each(killPoints().map((killAt, run) => ({ run, killAt })))(
    'killed after $killAt accepted: nothing accepted is lost',
    async ({ run, killAt }) => {
      const topology = runTopology(`sqlite-${run}`);
      const path = join(dir, `run-${run}.db`);
      const prefix = `r${run}`;
      const common = {
        url: BROKER_URL,
        journal: { kind: 'sqlite', path } as const,
        topology: topology.options,
        routingKey: topology.queue,
        prefix,
        count: COUNT,
        window: 256,
        deadlineMs: 60_000,
      };
      try {
        const publisher = new Child({ ...common, mode: 'publish' });
        await publisher.until(() => publisher.accepted.size >= killAt, `${killAt} accepted`, 60_000);
        publisher.kill();
        await publisher.exited;
        expect(publisher.report('published')).toBeUndefined();

        // What the killed process left: the messages whose outcome it did not know durably.
        const reader = await openJournalReader(common.journal);
        const unknown = new Set(
          (await foldReader(reader)).pending().map((record) => record.message.messageId),
        );
        await reader.close();

        const finisher = await runToExit({ ...common, mode: 'finish' });
        expect(finisher.report('finished')?.pendingBefore).toBe(unknown.size);

        const counts = await drainQueue(topology.queue);
        const result = score(publisher.accepted, counts, prefix);
        expect(result.lost).toEqual([]);
        expect(result.unexpected).toEqual([]);
        expect(result.duplicated.filter((id) => !unknown.has(id))).toEqual([]);
        for (const id of unknown) expect(counts.has(id)).toBe(true);
        console.log(
          `run ${run}: killed after ${publisher.accepted.size} accepted reported; ${unknown.size} unknown at the kill; ` +
            `${result.delivered} delivered, ${result.duplicated.length} duplicated, 0 lost`,
        );
      } finally {
        await deleteTopology(topology);
      }
    },
    90_000,
  );
});
