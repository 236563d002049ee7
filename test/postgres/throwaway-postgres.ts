/**
 * Throwaway PostgreSQL servers for tests that restart one: `initdb` into a temp folder as the
 * `postgres` user, on a free port of their own, removed by `stop()` (and at process exit when a test
 * forgets), so the shared server on 5432 is never touched.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A running throwaway server. */
export interface ThrowawayPostgres {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, trust auth. */
  readonly adminUrl: string;
  /** Stops the server (fast shutdown: sessions are cut) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops it at once and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

const live = new Set<() => void>();
let hooked = false;

function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  return join('/usr/lib/postgresql', versions[0] as string, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

async function asPostgres(command: string, args: string[]): Promise<void> {
  await run('runuser', ['-u', 'postgres', '--', join(binDir(), command), ...args], { timeout: 60_000 });
}

/** Creates and starts a server; resolves once it accepts connections. */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-pg-'));
  const { stdout } = await run('id', ['-u', 'postgres']);
  const uid = Number(stdout.trim());
  chownSync(dir, uid, uid);
  const data = join(dir, 'data');
  const port = await freePort();
  const ctl = (action: string, ...extra: string[]) =>
    asPostgres('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      ...extra,
      action,
    ]);
  const remove = () => {
    try {
      execFileSync(
        'runuser',
        ['-u', 'postgres', '--', join(binDir(), 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'],
        {
          stdio: 'ignore',
        },
      );
    } catch {
      // Not running.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await ctl('start');
  } catch (error) {
    remove();
    throw error;
  }
  live.add(remove);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const cleanup of live) cleanup();
    });
  }
  let stopped = false;
  return {
    port,
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: async () => {
      await ctl('stop', '-m', 'fast');
      await ctl('start');
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      live.delete(remove);
      await ctl('stop', '-m', 'immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
