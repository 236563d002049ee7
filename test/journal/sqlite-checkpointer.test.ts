import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SqliteCheckpointer } from '../../src/journal/sqlite-checkpointer.js';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { eventually } from '../producer/helpers.js';
import { outbound } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('checkpoints the WAL into the database file from its worker, the writer’s own checkpoints off', async () => {
  const path = join(dir, 'journal.db');
  const journal = new SqliteJournal({ path });
  await journal.open();
  const body = Buffer.alloc(1_024, 0x61);
  // ≈5 MiB of WAL: in WAL mode the database file grows only when a checkpoint copies pages into it,
  // and the writer's own connection has automatic checkpoints off.
  for (let batch = 0; batch < 10; batch += 1) {
    for (let n = 0; n < 500; n += 1) {
      journal.append({ type: 'accepted', message: { ...outbound(`m-${batch}-${n}`), content: body } });
    }
    await journal.commit();
  }
  await eventually(() => statSync(path).size > 4 * 1_048_576, 'the database file to take the pages', 10_000);
  await journal.close();
  const reopened = new SqliteJournal({ path });
  expect(await reopened.open()).toHaveLength(5_000);
  await reopened.close();
});

it('reports a worker that cannot run, so that the writer checkpoints again', async () => {
  const failures: Error[] = [];
  const checkpointer = new SqliteCheckpointer(join(dir, 'missing.db'), (error) => failures.push(error));
  await eventually(() => failures.length > 0, 'the failure');
  expect(failures).toHaveLength(1);
  await checkpointer.stop();
});

it('empties a WAL grown past walTruncateBytes, while the journal stays open', async () => {
  const path = join(dir, 'bounded.db');
  const journal = new SqliteJournal({ path, walTruncateBytes: 1_048_576 });
  await journal.open();
  const body = Buffer.alloc(1_024, 0x62);
  for (let batch = 0; batch < 6; batch += 1) {
    for (let n = 0; n < 500; n += 1) {
      journal.append({ type: 'accepted', message: { ...outbound(`w-${batch}-${n}`), content: body } });
    }
    await journal.commit();
  }
  // A passive checkpoint copies the pages but leaves the WAL file at its size; TRUNCATE empties it.
  await eventually(() => statSync(`${path}-wal`).size === 0, 'the WAL to be truncated', 10_000);
  expect(journal.pendingCount()).toBe(3_000);
  await journal.close();
  const reopened = new SqliteJournal({ path });
  expect(await reopened.open()).toHaveLength(3_000);
  await reopened.close();
});
