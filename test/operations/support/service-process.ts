/**
 * A `ferry serve` process for the operations tests: started with a given environment (and user),
 * its JSON log lines collected as they come, its HTTP port read from its `listening` line.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { vi } from 'vitest';

/** One parsed log line. */
export type LogLine = Readonly<Record<string, unknown>>;

/** A running service process. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Every JSON log line so far, in order. */
  readonly lines: LogLine[];
  /** Everything the process wrote that was not a JSON line (stderr included). */
  readonly other: string[];
  /** `fetch` against the service. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  /** Polls `check` until it holds or `timeoutMs` passes (then fails naming `what`). */
  until(check: () => boolean | Promise<boolean>, what: string, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then waits for the exit; SIGKILL after 15 s. */
  stop(): Promise<void>;
}

/** Starts `node <args>` (the serve command) and resolves once it logged where it listens. */
export async function startServiceProcess(
  args: readonly string[],
  options: Pick<SpawnOptions, 'cwd' | 'uid' | 'gid'> & { readonly env: NodeJS.ProcessEnv },
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...args], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  const other: string[] = [];
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const text of complete) {
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        other.push(text);
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => other.push(chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const until = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) => {
    await vi.waitFor(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`the service exited (${child.exitCode}): ${other.join('')}`);
        if (!(await check())) throw new Error(`timed out waiting for ${what}`);
      },
      { timeout: timeoutMs, interval: 100 },
    );
  };
  await until(() => lines.some((line) => line.msg === 'listening'), 'the service to listen', 60_000);
  const port = Number(lines.find((line) => line.msg === 'listening')?.port);
  const base = `http://127.0.0.1:${port}`;

  return {
    child,
    port,
    lines,
    other,
    until,
    call: async (method, path, body) => {
      const response = await fetch(base + path, {
        method,
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, json: text.startsWith('{') ? JSON.parse(text) : text };
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(force);
    },
  };
}
