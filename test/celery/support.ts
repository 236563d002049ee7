/**
 * A real Celery worker (Debian's python3-celery) on a vhost of its own on the shared broker: the worker
 * consumes the real ML queue names, and the vhost keeps them apart from every other test.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const env = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };
/** Debian's interpreter: the one python3-celery installs into (a pyenv `python3` may shadow it). */
const PYTHON = '/usr/bin/python3';
const WORKER_DIR = join(import.meta.dirname, 'worker');

/** One task the worker executed, as test/celery/worker/ferry_worker.py records it. */
export interface ExecutedTask {
  readonly task: string;
  readonly id: string;
  readonly args: unknown[];
  readonly kwargs: Record<string, unknown>;
  readonly correlation_id: string | null;
  readonly traceparent: string | null;
  readonly eta: string | null;
  readonly expires: string | null;
  readonly routing_key: string | null;
}

/** A vhost named `ferry-celery-<random>` that guest may use; delete it with `remove()`. */
export async function createVhost(): Promise<{ name: string; url: string; remove(): Promise<void> }> {
  const name = `ferry-celery-${randomBytes(4).toString('hex')}`;
  await run('rabbitmqctl', ['-q', 'add_vhost', name], { env });
  await run('rabbitmqctl', ['-q', 'set_permissions', '-p', name, 'guest', '.*', '.*', '.*'], { env });
  return {
    name,
    url: `amqp://guest:guest@127.0.0.1:5672/${name}`,
    remove: async () => {
      await run('rabbitmqctl', ['-q', 'delete_vhost', name], { env });
    },
  };
}

/** A running Celery worker consuming every ML queue of `brokerUrl`. */
export interface CeleryWorker {
  /** Every task executed so far. */
  executed(): ExecutedTask[];
  /** Polls until the task with this id ran; rejects after `timeoutMs` with the worker's log. */
  waitForTask(id: string, timeoutMs?: number): Promise<ExecutedTask>;
  stop(): Promise<void>;
}

/** Starts the worker and resolves once it consumes (its "ready" log line). */
export async function startWorker(brokerUrl: string, timeoutMs = 30_000): Promise<CeleryWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-celery-'));
  const results = join(dir, 'executed.jsonl');
  let log = '';
  const child: ChildProcess = spawn(
    PYTHON,
    [
      '-m',
      'celery',
      '-A',
      'ferry_worker',
      'worker',
      '--pool',
      'solo',
      '--loglevel',
      'INFO',
      '--without-gossip',
      '--without-mingle',
      '--without-heartbeat',
      '-Q',
      'ml.summarize,ml.summarize_local,ml.transcribe,ml.transcribe_local,ml.embed',
    ],
    {
      cwd: WORKER_DIR,
      env: { ...env, FERRY_CELERY_BROKER: brokerUrl, FERRY_CELERY_RESULTS: results, PYTHONPATH: WORKER_DIR },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the Celery worker was not ready within ${timeoutMs} ms:\n${log}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (/\bready\./.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the Celery worker exited with ${code}:\n${log}`));
    });
  });
  try {
    await ready;
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const executed = (): ExecutedTask[] => {
    let text = '';
    try {
      text = readFileSync(results, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as ExecutedTask);
  };
  return {
    executed,
    async waitForTask(id, waitMs = 20_000) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const found = executed().find((task) => task.id === id);
        if (found !== undefined) return found;
        if (Date.now() > deadline) {
          throw new Error(`the worker did not execute task ${id} within ${waitMs} ms:\n${log.slice(-4000)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
