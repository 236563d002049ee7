import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { journalCommand } from '../../src/cli/journal-command.js';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { outbound } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-lock-'));
const children: ChildProcess[] = [];
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  process.exitCode = undefined;
});

const journalPath = () => join(dir, `j-${Math.random().toString(36).slice(2)}.db`);

/** A second process that opens the journal, says so on stdout, and holds it until killed. */
function holder(path: string): Promise<ChildProcess> {
  const source = `
    const { SqliteJournal } = await import(${JSON.stringify(new URL('../../src/journal/sqlite-journal.ts', import.meta.url).href)});
    const journal = new SqliteJournal({ path: ${JSON.stringify(path)} });
    await journal.open();
    process.stdout.write('open\\n');
    setInterval(() => undefined, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (data: Buffer) => {
      if (data.toString().includes('open')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
  });
}

describe('one owner per sqlite journal', () => {
  it('refuses a second opener in the same process, and lets it in after the close', async () => {
    const path = journalPath();
    const first = new SqliteJournal({ path });
    await first.open();
    const second = new SqliteJournal({ path });
    await expect(second.open()).rejects.toMatchObject({
      code: 'JOURNAL_LOCKED',
      message: expect.stringContaining(`pid ${process.pid} on ${hostname()} since `),
    });
    await second.close();
    await first.close();
    const third = new SqliteJournal({ path });
    await expect(third.open()).resolves.toEqual([]);
    await third.close();
  });

  it('names another process holding it, and takes the journal over once that process is dead', async () => {
    const path = journalPath();
    const child = await holder(path);
    const refused = new SqliteJournal({ path });
    await expect(refused.open()).rejects.toMatchObject({
      code: 'JOURNAL_LOCKED',
      message: expect.stringMatching(new RegExp(`in use by pid ${child.pid} on .+ since \\d{4}-`)),
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const next = new SqliteJournal({ path });
    await expect(next.open()).resolves.toEqual([]);
    next.append({ type: 'accepted', message: outbound('after-takeover') });
    await next.commit();
    expect(next.pendingCount()).toBe(1);
    await next.close();
  });

  it('leaves the read-only journal commands working beside a live owner', async () => {
    const path = journalPath();
    const owner = new SqliteJournal({ path });
    await owner.open();
    owner.append({ type: 'accepted', message: outbound('held') });
    await owner.commit();
    let out = '';
    const root = new Command('ferry').exitOverride();
    root.addCommand(journalCommand({ out: (text) => (out += text), err: () => undefined }));
    await root.parseAsync(['journal', 'stats', '--journal', `sqlite:${path}`, '--json'], { from: 'user' });
    expect(process.exitCode ?? 0).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ pending: 1 });
    await owner.close();
  });
});
