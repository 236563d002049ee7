/**
 * bench/outbox.ts's child processes: ferry's relay (a producer on the postgres journal), a floor relay
 * (bench/outbox-floor.ts) or amqplib, each told what to do by a {@link ChildJob} in
 * `FERRY_BENCH_CHILD` and answering over IPC; and what parent and children share.
 */
import { percentile, type Quantiles } from './outbox-docs.js';
import { type Floor, floorChild } from './outbox-floor.js';
import { benchMessage } from './workload.js';

/** The shared broker every run publishes to. */
export const BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672';

export /** What a child reports when it stops. */
interface ChildReport {
  readonly cpuMicros: number;
  /** `[routing key, wall-clock ms]` of every confirm the relay had. */
  readonly confirmedAt: [string, number][];
}

/** What the parent hands a child, as JSON in `FERRY_BENCH_CHILD`. */
export interface ChildJob {
  readonly kind: 'relay' | 'amqplib' | Floor;
  readonly url: string;
  /** amqplib: the exchange it publishes to (routing key: the queue's name). */
  readonly exchange: string;
  readonly queue: string;
  /** Relays: the `topology.unroutable` option (absent: every message `mandatory`). */
  readonly unroutable?: Unroutable;
  readonly messages: number;
  /** Relays: extra postgres journal options (an A/B variant). */
  readonly journal: Record<string, unknown>;
  /**
   * Relays: record when each confirm came, for the steady stream's commit-to-confirm. A burst leaves
   * it off: the bench's own observer would otherwise run for every message on the relay's time.
   */
  readonly timeConfirms?: boolean;
}

export /** The alternate exchange and its queue, as ferry's `topology.unroutable` option takes them. */
interface Unroutable {
  readonly alternateExchange: string;
  readonly queue: string;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Milliseconds on the wall clock, high resolution: comparable across this machine's processes. */
export const wallNow = () => performance.timeOrigin + performance.now();

/** p50 and p99 of `samples`. */
export function quantiles(samples: readonly number[]): Quantiles {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
}

/** A child: a relay (a producer on the postgres journal), a floor relay, or amqplib publishing on `go`. */
export async function runChild(): Promise<void> {
  const job = JSON.parse(process.env.FERRY_BENCH_CHILD ?? '{}') as ChildJob;
  const cpuAtStart = process.cpuUsage();
  const cpu = () => {
    const used = process.cpuUsage(cpuAtStart);
    return used.user + used.system;
  };
  const report = (extra: Partial<ChildReport> = {}) =>
    process.send?.({ cpuMicros: cpu(), confirmedAt: [], ...extra } satisfies ChildReport);
  if (job.kind === 'amqplib') return amqplibChild(job, cpu);
  if (job.kind !== 'relay') return floorChild({ ...job, kind: job.kind }, BROKER_URL, cpu);
  const { createProducer } = await import('../src/producer/producer.js');
  const confirmedAt: [string, number][] = [];
  const relay = createProducer({
    connection: { url: BROKER_URL },
    // The routed bench's ferry client's topology (bench/clients/ferry.ts).
    topology: { declare: false, ...(job.unroutable === undefined ? {} : { unroutable: job.unroutable }) },
    journal: { kind: 'postgres', url: job.url, migrate: false, ...job.journal },
  });
  if (job.timeConfirms === true) {
    relay.observe({
      accepted: () => undefined,
      answered: () => undefined,
      settled: (routingKey, outcome) => {
        if (outcome === 'confirmed') confirmedAt.push([routingKey, wallNow()]);
      },
      retried: () => undefined,
      connecting: () => undefined,
    });
  }
  await relay.start();
  const atStart = cpu();
  process.send?.('ready');
  process.once('message', () => {
    const used = cpu() - atStart;
    void relay.close({ timeoutMs: 5_000 }).finally(() => {
      report({ cpuMicros: used, confirmedAt });
      // The IPC message goes out before the exit.
      setTimeout(() => process.exit(0), 100);
    });
  });
}

/** The amqplib child: `go` runs the pipelined publish, `{ rate, seconds }` the steady one, `stop` ends. */
async function amqplibChild(job: ChildJob, cpu: () => number): Promise<void> {
  const { createClient } = await import('./clients/amqplib.js');
  const client = await createClient(
    {
      url: job.url,
      exchange: job.exchange,
      routingKey: job.queue,
      queue: job.queue,
      // Only ferry reads it; amqplib publishes without `mandatory`.
      unroutable: { alternateExchange: '', queue: '' },
    },
    { reconnectDelayMs: 100, recovery: false, scratch: '' },
  );
  const handle = async (message: unknown): Promise<unknown> => {
    if (message === 'go') {
      const started = performance.now();
      const before = cpu();
      await client.pipelined(job.messages, (n) => benchMessage('amqplib', n));
      return { ms: performance.now() - started, cpuMicros: cpu() - before };
    }
    if (typeof message === 'object' && message !== null) {
      const { rate, seconds } = message as { rate: number; seconds: number };
      const send = client.send?.bind(client);
      if (send === undefined) throw new Error('the amqplib adapter has no send()');
      const latencies: number[] = [];
      const sent: Promise<void>[] = [];
      const started = performance.now();
      for (let i = 0; i < rate * seconds; i += 1) {
        const wait = started + (i * 1_000) / rate - performance.now();
        if (wait > 0) await sleep(wait);
        const at = performance.now();
        sent.push(
          send(benchMessage('amqplib-steady', i)).then(() => void latencies.push(performance.now() - at)),
        );
      }
      await Promise.all(sent);
      const achieved = (rate * seconds) / ((performance.now() - started) / 1_000);
      return { achieved, confirmed: quantiles(latencies) };
    }
    await client.close();
    setTimeout(() => process.exit(0), 100);
    return { cpuMicros: cpu(), confirmedAt: [] } satisfies ChildReport;
  };
  process.on('message', (message) => {
    void handle(message).then((answer) => process.send?.(answer as string));
  });
  process.send?.('ready');
}
