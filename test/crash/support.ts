/**
 * Helpers of the crash tests: ferry child processes that can be SIGKILLed, a throwaway topology on the
 * shared broker, and a consumer that counts what arrived, Jepsen-style (lost, duplicated, unexpected).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import amqplib from 'amqplib';
import type { TopologyOptions } from '../../src/amqp/topology.js';
import type { ChildReport, ChildSettings } from './publisher-child.js';

export const BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672';
const CHILD = fileURLToPath(new URL('./publisher-child.ts', import.meta.url));

/** A run's own exchange and queues: nothing of the shared default topology is touched. */
export interface RunTopology {
  readonly tag: string;
  readonly options: TopologyOptions;
  readonly queue: string;
}

export function runTopology(what: string): RunTopology {
  const tag = `ferry-crash-${what}-${randomBytes(4).toString('hex')}`;
  return {
    tag,
    queue: `${tag}.q`,
    options: {
      exchange: `${tag}.x`,
      queues: [`${tag}.q`],
      // A classic queue: the point is the journal, not the queue type, and it is faster on 2 cores.
      queueArguments: {},
      deadLetterExchange: `${tag}.dlx`,
      deadLetterQueue: `${tag}.dlq`,
    },
  };
}

/** Deletes a run's exchanges and queues. */
export async function deleteTopology(run: RunTopology): Promise<void> {
  const connection = await amqplib.connect(BROKER_URL);
  try {
    const channel = await connection.createChannel();
    await channel.deleteQueue(`${run.tag}.q`);
    await channel.deleteQueue(`${run.tag}.dlq`);
    await channel.deleteExchange(`${run.tag}.x`);
    await channel.deleteExchange(`${run.tag}.dlx`);
  } finally {
    await connection.close();
  }
}

/** Children not yet exited: a failed test must not leave a publisher running behind it. */
const running = new Set<ChildProcess>();

/** Kills every child still running; call it after each test. */
export async function killChildren(): Promise<void> {
  const exits = [...running].map(
    (child) =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  );
  await Promise.all(exits);
}

/** A running child and what it reported. */
export class Child {
  readonly accepted = new Set<string>();
  readonly reports: ChildReport[] = [];
  readonly exited: Promise<number | null>;
  private readonly process: ChildProcess;
  private listeners: (() => void)[] = [];
  stderr = '';

  constructor(settings: ChildSettings) {
    this.process = fork(CHILD, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, FERRY_CRASH_CHILD: JSON.stringify(settings) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.process.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.process.on('message', (report: ChildReport) => {
      this.reports.push(report);
      if (report.type === 'accepted') for (const id of report.ids) this.accepted.add(id);
      for (const listener of this.listeners.splice(0)) listener();
    });
    running.add(this.process);
    this.exited = new Promise((resolve) =>
      this.process.on('exit', (code) => {
        running.delete(this.process);
        resolve(code);
      }),
    );
    this.exited.then(() => {
      for (const listener of this.listeners.splice(0)) listener();
    });
  }

  /** Waits until `check` holds, re-checking on every report; fails on exit or after `timeoutMs`. */
  async until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (this.process.exitCode !== null || this.process.signalCode !== null) {
        throw new Error(`child exited (${this.process.exitCode}) before ${what}: ${this.describe()}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.listeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  report<T extends ChildReport['type']>(type: T): Extract<ChildReport, { type: T }> | undefined {
    return this.reports.find((report) => report.type === type) as
      | Extract<ChildReport, { type: T }>
      | undefined;
  }

  send(message: string): void {
    this.process.send(message);
  }

  kill(): void {
    this.process.kill('SIGKILL');
  }

  private describe(): string {
    const error = this.report('error');
    return error === undefined ? this.stderr.slice(-2_000) : error.message;
  }
}

/** Runs a child to its exit and fails unless it exits cleanly. */
export async function runToExit(settings: ChildSettings): Promise<Child> {
  const child = new Child(settings);
  const code = await child.exited;
  if (code !== 0)
    throw new Error(`child failed (${code}): ${child.report('error')?.message ?? child.stderr}`);
  return child;
}

/** Counts per message id of everything in `queue`, draining it. */
export async function drainQueue(queue: string): Promise<Map<string, number>> {
  const connection = await amqplib.connect(BROKER_URL);
  const counts = new Map<string, number>();
  try {
    const channel = await connection.createChannel();
    const { messageCount } = await channel.checkQueue(queue);
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      if (messageCount === 0) resolve();
      channel
        .consume(
          queue,
          (message) => {
            if (message === null) return;
            const id = String(message.properties.messageId);
            counts.set(id, (counts.get(id) ?? 0) + 1);
            received += 1;
            if (received === messageCount) resolve();
          },
          { noAck: true },
        )
        .catch(reject);
    });
  } finally {
    await connection.close();
  }
  return counts;
}

/** The Jepsen-style score of a run. */
export interface Score {
  readonly lost: string[];
  readonly duplicated: string[];
  readonly unexpected: string[];
  readonly delivered: number;
}

/**
 * Scores a run: `lost` are accepted ids never delivered; `duplicated` delivered more than once;
 * `unexpected` delivered ids this run never published.
 */
export function score(
  accepted: ReadonlySet<string>,
  counts: ReadonlyMap<string, number>,
  prefix: string,
): Score {
  const lost = [...accepted].filter((id) => !counts.has(id));
  const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  const unexpected = [...counts.keys()].filter((id) => !id.startsWith(`${prefix}-`));
  return { lost, duplicated, unexpected, delivered: counts.size };
}
