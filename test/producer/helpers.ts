/**
 * Shared set-up of the producer behaviour tests: a producer on a {@link FakeBroker} with delays short
 * enough to run in milliseconds, waits with a deadline, and clean-up of every producer a test made.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, vi } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import type { ProducerOptions } from '../../src/producer/options.js';
import { createProducer, type Producer } from '../../src/producer/producer.js';
import type { PublishRequest } from '../../src/producer/publish-request.js';
import { FakeBroker } from '../support/fake-broker.js';
import { mergeOptions } from '../support/merge-options.js';

/** How long any wait may take before the test fails instead of hanging. */
export const DEADLINE_MS = 5_000;

/** Options with every delay shortened; the defaults (seconds) would make each test slow. */
export const FAST: ProducerOptions = {
  seed: 42,
  closeTimeoutMs: 200,
  topology: { declare: false },
  retry: { initialDelayMs: 5, maxDelayMs: 20, parkedDelayMs: 20 },
  connection: { reconnect: { initialDelayMs: 5, maxDelayMs: 20 } },
  publish: { confirmTimeoutMs: 1_000 },
  breaker: { cooldownMs: 50 },
};

/** A producer under test with its fake broker and journal. */
export interface Rig {
  readonly producer: Producer;
  readonly broker: FakeBroker;
  readonly journal: MemoryJournal;
}

const made: Producer[] = [];

afterEach(async () => {
  for (const producer of made.splice(0)) await producer.close({ timeoutMs: 0 });
});

/** Creates a producer on a fresh fake broker (not started); it is closed after the test. */
export function rig(
  options: ProducerOptions = {},
  broker = new FakeBroker(),
  journal = new MemoryJournal(),
): Rig {
  const producer = createProducer(mergeOptions(FAST, options), { broker, journal });
  made.push(producer);
  return { producer, broker, journal };
}

/** {@link rig}, started and connected. */
export async function startedRig(options: ProducerOptions = {}, broker = new FakeBroker()): Promise<Rig> {
  const created = rig(options, broker);
  await created.producer.start();
  return created;
}

/** A small JSON message to the exchange `tasks`, numbered so that tests can tell messages apart. */
export function task(n: number, extra: Partial<PublishRequest> = {}): PublishRequest {
  return { exchange: 'tasks', routingKey: 'ml.summarize', body: { n }, messageId: `m-${n}`, ...extra };
}

/** Waits until `check` holds, polling; fails after {@link DEADLINE_MS} with `what`. */
export async function eventually(check: () => boolean, what: string, timeout = DEADLINE_MS): Promise<void> {
  await vi.waitFor(
    () => {
      if (!check()) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout, interval: 2 },
  );
}

/** The FerryError a promise rejects with; fails when it resolves or rejects with something else. */
export async function rejection(promise: Promise<unknown>): Promise<FerryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FerryError) return error;
    throw new Error(`expected a FerryError, got ${String(error)}`);
  }
  throw new Error('expected a rejection, but it resolved');
}

/** The message ids of publishes, in order. */
export function ids(
  publishes: readonly { readonly properties: { readonly messageId?: string } }[],
): string[] {
  return publishes.map((p) => p.properties.messageId ?? '?');
}

/** How a fixture script run in its own process ended. */
export interface ChildRun {
  /** Exit code; `null` when it was killed at the deadline. */
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly elapsedMs: number;
}

/**
 * Runs `test/producer/fixtures/<name>.ts` in a child Node process and waits for it to exit on its own,
 * killing it after `deadlineMs`. For behaviour that would hang this process when broken: a live handle
 * left behind (the child never exits) or a busy loop that starves the event loop (no timer could fail
 * the test).
 */
export function runFixture(name: string, deadlineMs: number): Promise<ChildRun> {
  const script = fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      // The tsx loader in this process, not the tsx CLI: a killed CLI would leave its child running.
      ['--import', 'tsx', script],
      { cwd: root, timeout: deadlineMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const killed = error !== null && 'killed' in error && error.killed === true;
        if (error !== null && !killed && typeof (error as { code?: unknown }).code !== 'number') {
          reject(error);
          return;
        }
        resolve({
          code: error === null ? 0 : killed ? null : ((error as { code: number }).code ?? null),
          timedOut: killed,
          stdout,
          stderr,
          elapsedMs: Date.now() - started,
        });
      },
    );
  });
}

/** The outcomes of receipts, failing after `timeout` instead of waiting for the test's own timeout. */
export async function outcomes(
  receipts: readonly { readonly settled: Promise<string> }[],
  timeout = DEADLINE_MS,
): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`receipts not settled within ${timeout} ms`)), timeout);
  });
  try {
    return await Promise.race([Promise.all(receipts.map((r) => r.settled)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
