/**
 * ferry's own CPU per message, with no broker: the routed workload's messages (bench/workload.ts)
 * through `publishMany` (batches of 1,000) and `flush()` on the memory journal, against a stand-in
 * session that writes nothing and confirms with one multiple ack per event-loop turn, keeping the
 * last `--lag` writes unconfirmed while writes keep coming, as a broker a little behind does. Without
 * a broker on the same cores, the figure moves far less with the machine's load than the bench's, so
 * an A/B of a change is readable on a shared machine: run it for two checkouts in alternation.
 *
 *   npx tsx bench/own-cpu.ts [--root <checkout>] [--messages 50000] [--rounds 3] [--lag 4000] [--raw]
 *                            [--traced | --no-otel]
 *
 * `--raw` publishes a 1 KiB Buffer instead of the JSON body: what is left is ferry's bookkeeping
 * alone. `--traced` registers the traced bench client's no-op tracer provider and W3C propagators
 * (bench/noop-tracing.ts) before the producer is created: run with and without it, in alternation, to
 * read what tracing costs per message. `--no-otel` hides `@opentelemetry/api` from `require` first, as
 * the `ferry-memory-no-otel` bench client does (bench/clients/without-otel-api.ts): ferry as an
 * application without the API runs it, against the default (the API installed, no provider).
 *
 * Prints one JSON line per measured round (after a warm-up of 20,000 messages): user + system CPU µs
 * per message.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BrokerPort, BrokerSession, SessionListener } from '../src/amqp/ports.js';
import type { JsonValue } from '../src/index.js';
import { withoutOtelApi } from './clients/without-otel-api.js';
import { registerNoopTracing } from './noop-tracing.js';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '.' },
    messages: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '3' },
    lag: { type: 'string', default: '4000' },
    raw: { type: 'boolean', default: false },
    traced: { type: 'boolean', default: false },
    'no-otel': { type: 'boolean', default: false },
  },
});
if (values.traced && values['no-otel']) throw new Error('--traced needs the API that --no-otel hides');
if (values['no-otel']) await withoutOtelApi();
const root = resolve(values.root);
const messages = Number(values.messages);
const lag = Number(values.lag);
const BATCH = 1_000;
const RAW = Buffer.alloc(1_024, 'a');

type Ferry = typeof import('../src/index.js');
type Journals = typeof import('../src/journal/memory-journal.js');
type Workload = typeof import('./workload.js');
const { createProducer }: Ferry = await import(`${root}/src/index.ts`);
const { MemoryJournal }: Journals = await import(`${root}/src/journal/memory-journal.ts`);
const { benchMessage }: Workload = await import(`${root}/bench/workload.ts`);

/** Counts writes and acks them a turn later, `lag` behind while writes keep coming. */
class StandInSession implements BrokerSession {
  readonly endpoint = 'amqp://stand-in';
  private tag = 0;
  private acked = 0;
  private seenAtLastTurn = 0;
  private scheduled = false;
  private listener: SessionListener | undefined;

  get nextDeliveryTag(): number {
    return this.tag + 1;
  }

  publish(): boolean {
    this.tag += 1;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.turn());
    }
    return true;
  }

  private turn(): void {
    const writing = this.tag !== this.seenAtLastTurn;
    this.seenAtLastTurn = this.tag;
    const upTo = writing ? Math.max(this.acked, this.tag - lag) : this.tag;
    if (upTo > this.acked) {
      this.acked = upTo;
      this.listener?.ack(upTo, true);
    }
    if (this.acked < this.tag) setImmediate(() => this.turn());
    else this.scheduled = false;
  }

  async publishUnconfirmed(): Promise<void> {}
  async consume(): Promise<void> {}
  async checkExchange(): Promise<void> {}
  async declare(): Promise<void> {}
  async reopenChannel(): Promise<void> {
    this.tag = 0;
    this.acked = 0;
    this.seenAtLastTurn = 0;
  }
  async close(): Promise<void> {}
  destroy(): void {}
  setListener(listener: SessionListener): void {
    this.listener = listener;
  }
}

if (values.traced) await registerNoopTracing();
const broker: BrokerPort = { connect: async () => new StandInSession() };
const producer = createProducer({ topology: { declare: false } }, { broker, journal: new MemoryJournal() });
await producer.start();

async function run(prefix: string, count: number): Promise<void> {
  for (let first = 0; first < count; first += BATCH) {
    const size = Math.min(BATCH, count - first);
    await producer.publishMany(
      Array.from({ length: size }, (_, i) => {
        const message = benchMessage(prefix, first + i);
        return {
          exchange: 'bench',
          routingKey: 'bench',
          messageId: message.id,
          body: values.raw ? RAW : (message.body as JsonValue),
        };
      }),
    );
  }
  await producer.flush();
}

await run('warm', 20_000);
for (let round = 1; round <= Number(values.rounds); round += 1) {
  const before = process.cpuUsage();
  await run(`r${round}`, messages);
  const used = process.cpuUsage(before);
  const cpuMicrosPerMessage = Number(((used.user + used.system) / messages).toFixed(2));
  process.stdout.write(
    `${JSON.stringify({ root, traced: values.traced, otel: !values['no-otel'], round, messages, cpuMicrosPerMessage })}\n`,
  );
}
await producer.close();
