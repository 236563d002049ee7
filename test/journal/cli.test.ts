import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { journalCommand } from '../../src/cli/journal-command.js';
import type { JournalEvent } from '../../src/journal/journal.js';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { outbound } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
});

const failure = { code: 'RETURNED', message: 'unroutable', permanent: false };
const HISTORY: JournalEvent[] = [
  { type: 'accepted', message: outbound('a') },
  { type: 'accepted', message: outbound('b') },
  { type: 'accepted', message: outbound('c') },
  { type: 'accepted', message: outbound('d') },
  { type: 'failed', messageId: 'b', attempts: 2, failure, at: 11, random: 77 },
  { type: 'failed', messageId: 'c', attempts: 3, failure, at: 12, random: 5 },
  { type: 'parked', messageId: 'c', deadLetterFailures: 1, retryAt: 60_012, at: 12 },
  { type: 'confirmed', messageId: 'd', at: 13 },
];

async function journalFile(): Promise<string> {
  const path = join(dir, `j-${Math.random().toString(36).slice(2)}.db`);
  const journal = new SqliteJournal({ path });
  await journal.open();
  for (const event of HISTORY) journal.append(event);
  await journal.close();
  return path;
}

async function ferry(...args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  const root = new Command('ferry').exitOverride();
  root.addCommand(journalCommand({ out: (text) => (out += text), err: (text) => (err += text) }));
  await root.parseAsync(args, { from: 'user' });
  return { out, err, exitCode: Number(process.exitCode ?? 0) };
}

describe('ferry journal', () => {
  it('stats: counts by state and finished totals', async () => {
    const path = await journalFile();
    const { out, exitCode } = await ferry('journal', 'stats', '--journal', `sqlite:${path}`, '--json');
    expect(exitCode).toBe(0);
    expect(JSON.parse(out)).toEqual({
      journal: `sqlite ${path}`,
      schemaVersion: 1,
      unfinished: 3,
      pending: 1,
      retrying: 1,
      parked: 1,
      confirmed: 1,
      deadLettered: 0,
    });
  });

  it('list: one line per unfinished message, filterable by state', async () => {
    const path = await journalFile();
    const all = await ferry('journal', 'list', '--journal', `sqlite:${path}`);
    expect(
      all.out
        .trim()
        .split('\n')
        .map((line) => line.split('  ').slice(0, 3)),
    ).toEqual([
      ['a', 'pending', 'attempts=0'],
      ['b', 'retrying', 'attempts=2'],
      ['c', 'parked', 'attempts=3'],
    ]);
    const parked = await ferry(
      'journal',
      'list',
      '--journal',
      `sqlite:${path}`,
      '--state',
      'parked',
      '--json',
    );
    expect(
      parked.out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).messageId),
    ).toEqual(['c']);
  });

  it('export: every stored event as NDJSON, bodies in base64', async () => {
    const path = await journalFile();
    const { out } = await ferry('journal', 'export', '--journal', `sqlite:${path}`);
    const lines = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    // The finished message's events were compacted away.
    expect(lines.map((line) => line.type)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'failed',
      'failed',
      'parked',
    ]);
    expect(Buffer.from(lines[0].message.content, 'base64').equals(outbound('a').content)).toBe(true);
  });

  it('a corrupt file: a clear error, exit code 2, the file unchanged', async () => {
    const path = join(dir, 'corrupt.db');
    const garbage = Buffer.from('not a journal\n'.repeat(500));
    writeFileSync(path, garbage);
    const { err, exitCode } = await ferry('journal', 'stats', '--journal', `sqlite:${path}`);
    expect(exitCode).toBe(2);
    expect(err).toMatch(/corrupt or not a sqlite file.*nothing in it was changed/);
    expect(readFileSync(path).equals(garbage)).toBe(true);
    const missing = await ferry('journal', 'stats', '--journal', `sqlite:${join(dir, 'nope.db')}`);
    expect(missing.exitCode).toBe(2);
    expect(missing.err).toContain('cannot open the journal');
  });

  it('runs as the ferry command', async () => {
    const path = await journalFile();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'journal', 'stats', '--json'],
      { env: { ...process.env, FERRY_JOURNAL: `sqlite:${path}` } },
    );
    expect(JSON.parse(stdout)).toMatchObject({ unfinished: 3, parked: 1 });
  });
});
