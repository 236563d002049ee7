import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { FOLDER_PREFIX, OWNER_FILE, removeStaleThrowawayNodes } from './stale-throwaway-nodes.js';

const made: string[] = [];
afterAll(async () => {
  for (const folder of made) await rm(folder, { recursive: true, force: true });
});

/** A throwaway-style folder naming `owner` as the process that made it. */
async function folderOwnedBy(owner: number): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), FOLDER_PREFIX));
  made.push(folder);
  await writeFile(join(folder, OWNER_FILE), String(owner));
  return folder;
}

it('removes the folders of test processes that are gone and keeps those of live ones', async () => {
  // A process that has exited: its pid names no process now.
  const gone = spawnSync(process.execPath, ['-e', '0']).pid;
  expect(gone).toBeGreaterThan(0);
  const stale = await folderOwnedBy(gone);
  const live = await folderOwnedBy(process.pid);

  const removed = await removeStaleThrowawayNodes();

  expect(removed.folders).toContain(stale);
  expect(existsSync(stale)).toBe(false);
  expect(removed.folders).not.toContain(live);
  expect(existsSync(live)).toBe(true);
});
