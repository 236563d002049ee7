/**
 * A journal that fails while the service runs, on a real full disk (a 2 MiB tmpfs, mounted for the
 * test and removed after): tasks are refused with 503 saying why, liveness fails, readiness names the
 * journal, nothing accepted before is lost, and freeing space brings it back.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { createProducer } from '../../src/producer/producer.js';
import { createService } from '../../src/service/server.js';
import { createMlTasks } from '../../src/tasks/ml-tasks.js';
import { FakeBroker } from '../support/fake-broker.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'ferry-full-'));
let mounted = false;
beforeAll(() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    mounted = true;
  } catch (error) {
    throw new Error(`this test mounts a small tmpfs and needs root: ${(error as Error).message}`);
  }
});
afterAll(() => {
  if (mounted) execFileSync('umount', ['-l', mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

/** Fills the filesystem: writes chunks until ENOSPC. */
function fill(path: string): void {
  const chunk = Buffer.alloc(64 * 1024, 1);
  const parts: Buffer[] = [];
  for (;;) {
    try {
      writeFileSync(path, Buffer.concat([...parts, chunk]));
      parts.push(chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return;
      throw error;
    }
  }
}

describe('a full disk under the sqlite journal', () => {
  it('refuses tasks with the reason, fails liveness, names the journal in readiness, loses nothing', async () => {
    const path = join(mountPoint, 'ferry.db');
    const journal = new SqliteJournal({ path });
    // Unconfirmed: every accepted task stays in the journal.
    const producer = createProducer(
      { closeTimeoutMs: 0, topology: { declare: false } },
      { broker: new FakeBroker(), journal },
    );
    const service = createService({ tasks: createMlTasks(producer) });
    const { port } = await service.listen(0, '127.0.0.1');
    await journal.open();
    producer.start().catch(() => undefined);
    const base = `http://127.0.0.1:${port}`;
    const task = (text: string) =>
      fetch(`${base}/api/shares/s/ml/embed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: { text: text.repeat(2_000) } }),
      });

    const accepted: string[] = [];
    for (let n = 0; n < 20; n += 1) {
      const reply = await task(`before-${n}`);
      expect(reply.status).toBe(202);
      accepted.push(((await reply.json()) as { messageId: string }).messageId);
    }
    fill(join(mountPoint, 'filler'));

    let refused: Response | null = null;
    for (let n = 0; n < 200 && refused === null; n += 1) {
      const reply = await task(`during-${n}`);
      if (reply.status === 202) accepted.push(((await reply.json()) as { messageId: string }).messageId);
      else refused = reply;
    }
    expect(refused?.status).toBe(503);
    expect(await refused?.json()).toEqual({
      error: { code: 'JOURNAL_WRITE_FAILED', message: expect.stringContaining('is full') },
    });
    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(503);
    expect(await live.json()).toMatchObject({ journal: { code: 'JOURNAL_WRITE_FAILED' } });
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reasons: string[] }).reasons).toContainEqual(
      expect.stringMatching(/^journal: the disk holding the journal .* is full/),
    );

    rmSync(join(mountPoint, 'filler'));
    const after = await task('after');
    expect(after.status).toBe(202);
    accepted.push(((await after.json()) as { messageId: string }).messageId);
    expect((await fetch(`${base}/health/live`)).status).toBe(200);

    await service.shutdown();
    const reopened = new SqliteJournal({ path });
    const pending = await reopened.open();
    expect(pending.map((message) => message.message.messageId).sort()).toEqual([...accepted].sort());
    await reopened.close();
  });
});
