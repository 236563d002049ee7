/**
 * A ferry process for the crash tests, run with `node --import tsx`. Its settings come as JSON in
 * `FERRY_CRASH_CHILD`:
 *
 * - `publish`: publishes `count` messages (ids `<prefix>-<n>`) with up to `window` publishes
 *   outstanding, and reports the ids whose `publish()` resolved (accepted, journaled) to the parent
 *   every few milliseconds. The parent kills it with SIGKILL whenever it likes.
 * - `finish`: opens the same journal, lets recovery republish what is unfinished, and exits once the
 *   journal owns nothing.
 *
 * With `stayAlive`, a `publish` child keeps running after its own messages are confirmed (claiming a
 * dead instance's messages, on redis) until the parent sends `stop`.
 */
import { buildTopology, type TopologyOptions } from '../../src/amqp/topology.js';
import type { JournalConfig } from '../../src/journal/create-journal.js';
import { createProducer } from '../../src/producer/producer.js';

/** What the parent asks for. */
export interface ChildSettings {
  readonly mode: 'publish' | 'finish';
  readonly url: string;
  readonly journal: JournalConfig;
  readonly topology: TopologyOptions;
  readonly routingKey: string;
  readonly prefix: string;
  readonly count: number;
  readonly window: number;
  readonly stayAlive?: boolean;
  readonly deadlineMs: number;
}

/** What the child tells the parent. */
export type ChildReport =
  | { readonly type: 'started' }
  | { readonly type: 'accepted'; readonly ids: readonly string[] }
  | { readonly type: 'published'; readonly ms: number }
  | { readonly type: 'finished'; readonly pendingBefore: number; readonly ms: number }
  | { readonly type: 'error'; readonly message: string };

const settings = JSON.parse(process.env.FERRY_CRASH_CHILD ?? '{}') as ChildSettings;
const send = (report: ChildReport): void => {
  process.send?.(report);
};

async function main(): Promise<void> {
  const producer = createProducer({
    journal: settings.journal,
    closeTimeoutMs: 2_000,
    connection: { url: settings.url },
    topology: { declare: buildTopology(settings.topology) },
    publish: { maxInFlight: 2_000 },
  });
  const deadline = Date.now() + settings.deadlineMs;
  if (settings.mode === 'finish') {
    const started = Date.now();
    await producer.start();
    const pendingBefore = producer.status().messages.journalPending;
    send({ type: 'started' });
    while (producer.status().messages.journalPending > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await producer.close();
    send({ type: 'finished', pendingBefore, ms: Date.now() - started });
    return;
  }
  await producer.start();
  send({ type: 'started' });
  const started = Date.now();
  let reported: string[] = [];
  const flush = setInterval(() => {
    if (reported.length === 0) return;
    send({ type: 'accepted', ids: reported });
    reported = [];
  }, 5);
  let next = 0;
  const settled: Promise<unknown>[] = [];
  async function worker(): Promise<void> {
    while (next < settings.count) {
      const id = `${settings.prefix}-${next}`;
      next += 1;
      const receipt = await producer.publish({
        exchange: settings.topology.exchange ?? '',
        routingKey: settings.routingKey,
        body: { id, pad: 'x'.repeat(900) },
        messageId: id,
      });
      reported.push(id);
      settled.push(receipt.settled);
    }
  }
  await Promise.all(Array.from({ length: settings.window }, worker));
  await Promise.all(settled);
  clearInterval(flush);
  send({ type: 'accepted', ids: reported });
  send({ type: 'published', ms: Date.now() - started });
  if (settings.stayAlive === true) {
    await new Promise<void>((resolve) => process.on('message', (message) => message === 'stop' && resolve()));
  }
  await producer.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  },
);
