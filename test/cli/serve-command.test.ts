/**
 * `ferry serve` as a process: a journal that cannot open is a start-up failure (one line on stderr,
 * exit 1, nothing listening), and SIGTERM drains and logs how many tasks stay in the journal.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startService } from '../../src/cli/serve-command.js';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import type { Log } from '../../src/service/log.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-serve-'));
const children: ChildProcess[] = [];
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

interface Run {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

function serve(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', RABBITMQ_URL: 'amqp://127.0.0.1:1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (data: Buffer) => (out += data.toString()));
  child.stderr?.on('data', (data: Buffer) => (err += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

function lines(text: string): { msg: string; [key: string]: unknown }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}

describe('ferry serve', () => {
  it('exits 1 with a clear message when the journal cannot open, before listening', async () => {
    const notADirectory = join(dir, 'a-file');
    writeFileSync(notADirectory, '');
    const run = serve({ FERRY_JOURNAL: `sqlite:${join(notADirectory, 'ferry.db')}` });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/^ferry serve: the journal cannot open: .*a-file\/ferry\.db/);
    expect(lines(run.stdout()).map((line) => line.msg)).not.toContain('listening');
  });

  it('says in one line that an unreachable Redis journal refused the connection', async () => {
    const run = serve({ FERRY_JOURNAL: 'redis://127.0.0.1:1' });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toBe(
      'ferry serve: the journal cannot open: cannot reach the redis journal: connect ECONNREFUSED 127.0.0.1:1\n',
    );
  });

  it('exits 1 naming the holder when another process owns the journal', async () => {
    const path = join(dir, 'owned.db');
    const owner = new SqliteJournal({ path });
    await owner.open();
    try {
      const run = serve({ FERRY_JOURNAL: `sqlite:${path}` });
      expect(await run.exited).toBe(1);
      expect(run.stderr()).toContain(`is in use by pid ${process.pid} on `);
    } finally {
      await owner.close();
    }
  });

  it("exports the journal's disk use; on SIGTERM drains, logs the tasks left in the journal, exits 0", async () => {
    const run = serve({ FERRY_JOURNAL: `sqlite:${join(dir, 'drain.db')}`, FERRY_SHUTDOWN_DELAY_MS: '0' });
    const port = await new Promise<number>((resolve, reject) => {
      const check = (): void => {
        const listening = lines(run.stdout()).find((line) => line.msg === 'listening');
        if (listening !== undefined) resolve(listening.port as number);
      };
      run.child.stdout?.on('data', check);
      run.exited.then((code) => reject(new Error(`exited ${code}: ${run.stderr()}`)));
    });
    const reply = await fetch(`http://127.0.0.1:${port}/api/shares/s/ml/embed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: { text: 'kept' } }),
    });
    expect(reply.status).toBe(202);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const db = /^ml_producer_journal_bytes\{file="db"\} (\d+)$/m.exec(metrics);
    expect(Number(db?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^ml_producer_journal_bytes\{file="wal"\} \d+$/m);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const stopped = lines(run.stdout()).find((line) => line.msg === 'stopped');
    expect(stopped).toMatchObject({ journalPending: 1 });
  });
});

describe('startService', () => {
  it('warns at start-up when it listens beyond loopback without a token, and not with one', async () => {
    for (const [token, warned] of [
      [undefined, true],
      ['a-token-of-sixteen+', false],
    ] as const) {
      const warnings: string[] = [];
      const log: Log = (level, msg) => {
        if (level === 'warn') warnings.push(msg);
      };
      const service = await startService(
        {
          HOST: '0.0.0.0',
          PORT: '0',
          FERRY_JOURNAL: 'memory',
          RABBITMQ_URL: 'amqp://127.0.0.1:1',
          ...(token === undefined ? {} : { FERRY_API_TOKEN: token }),
        },
        log,
      );
      await service.shutdown();
      expect(warnings.some((msg) => msg.includes('without FERRY_API_TOKEN'))).toBe(warned);
    }
  });
});
