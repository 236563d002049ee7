/**
 * One run of the cluster bench (`bench/cluster.ts`) in a process of its own, so that its CPU time is
 * its client's: publishes `messages` bench messages spread over the routing keys in turn (one quorum
 * queue each, each led by another node) and reports once every one is confirmed.
 */
import { performance } from 'node:perf_hooks';
import { connect } from 'amqplib';
import { createProducer, type JsonValue } from '../src/index.js';
import { benchMessage } from './workload.js';

/** What the runner asks for. */
export interface ClusterJob {
  readonly client: 'amqplib' | 'ferry-memory';
  /** ferry's `channels` option; amqplib always publishes on one confirm channel. */
  readonly channels: number;
  /** Every node's URL; amqplib connects to the first. */
  readonly urls: readonly string[];
  /** A seed whose first failover round starts on the first URL, so that both clients start there. */
  readonly seed: number;
  readonly exchange: string;
  readonly routingKeys: readonly string[];
  readonly unroutable: { readonly alternateExchange: string; readonly queue: string };
  readonly messages: number;
  readonly run: string;
}

/** What the child reports. */
export interface ClusterMeasurement {
  /** First publish → last confirm, ms. */
  readonly elapsedMs: number;
  /** User + system CPU of the child over the same window, µs. */
  readonly cpuMicros: number;
  /** Publishes not confirmed (amqplib: nacked; ferry: settled other than confirmed). */
  readonly failed: number;
}

/** Runs `publishAll` between the clock and CPU readings. */
async function measured(publishAll: () => Promise<number>): Promise<ClusterMeasurement> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const failed = await publishAll();
  const elapsedMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { elapsedMs, cpuMicros: used.user + used.system, failed };
}

/** amqplib pipelined, as `bench/clients/amqplib.ts` does it: a callback per message, waiting on `drain`. */
async function amqplibRun(job: ClusterJob): Promise<ClusterMeasurement> {
  const model = await connect(job.urls[0] as string);
  const channel = await model.createConfirmChannel();
  const result = await measured(
    () =>
      new Promise((resolve) => {
        let settled = 0;
        let failed = 0;
        const done = (error: unknown): void => {
          if (error != null) failed += 1;
          settled += 1;
          if (settled === job.messages) resolve(failed);
        };
        let n = 0;
        const pump = (): void => {
          while (n < job.messages) {
            const message = benchMessage(job.run, n);
            const routingKey = job.routingKeys[n % job.routingKeys.length] as string;
            n += 1;
            const body = Buffer.from(JSON.stringify(message.body));
            const options = { persistent: true, contentType: 'application/json', messageId: message.id };
            if (!channel.publish(job.exchange, routingKey, body, options, done)) {
              channel.once('drain', pump);
              return;
            }
          }
        };
        pump();
      }),
  );
  await model.close();
  return result;
}

/** ferry with the memory journal, `publishMany` in batches of 1,000, then `flush()`. */
async function ferryRun(job: ClusterJob): Promise<ClusterMeasurement> {
  const producer = createProducer({
    connection: {
      urls: [...job.urls],
      // The channel pool (issue 19): confirm channels the messages are spread over by routing key.
      channels: job.channels,
      healthCheckExchange: job.exchange,
      clientName: 'ferry-bench-cluster',
    },
    seed: job.seed,
    topology: { declare: false, unroutable: job.unroutable },
    journal: { kind: 'memory' },
  });
  await producer.start();
  const result = await measured(async () => {
    const before = producer.status().messages.deadLettered;
    for (let first = 0; first < job.messages; first += 1_000) {
      const size = Math.min(1_000, job.messages - first);
      await producer.publishMany(
        Array.from({ length: size }, (_, i) => {
          const n = first + i;
          const message = benchMessage(job.run, n);
          return {
            exchange: job.exchange,
            routingKey: job.routingKeys[n % job.routingKeys.length] as string,
            messageId: message.id,
            body: message.body as JsonValue,
          };
        }),
      );
    }
    await producer.flush();
    return producer.status().messages.deadLettered - before;
  });
  await producer.close({ timeoutMs: 10_000 });
  return result;
}

const job = JSON.parse(process.argv[2] ?? '{}') as ClusterJob;
try {
  const measurement = job.client === 'amqplib' ? await amqplibRun(job) : await ferryRun(job);
  process.send?.({ type: 'result', measurement });
} catch (error) {
  process.send?.({
    type: 'error',
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
}
process.disconnect?.();
