/**
 * Broker objects for one integration test: unique exchange, queue and dead-letter names, the
 * {@link Topology} ferry declares for them, and their removal afterwards. Unique names keep tests that
 * share a broker (and reruns after a crash) from seeing each other's messages.
 */
import { randomBytes } from 'node:crypto';
import amqp, { type Channel } from 'amqplib';
import { type AmqpArguments, buildTopology, type Topology } from '../../../src/amqp/topology.js';
import type { ProducerOptions } from '../../../src/producer/options.js';

/** The shared broker every non-destructive integration test uses. */
export const SHARED_BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** One test's names and the topology ferry declares for them. */
export interface TestTopology {
  readonly exchange: string;
  /** The one work queue, bound to {@link TestTopology.exchange} with its own name as routing key. */
  readonly queue: string;
  readonly deadLetterExchange: string;
  readonly deadLetterQueue: string;
  /** What ferry declares; without the dead-letter objects when `withDeadLetter` was `false`. */
  readonly topology: Topology;
  /** The producer options that point ferry at these objects. */
  readonly producerOptions: Pick<ProducerOptions, 'topology' | 'connection'>;
}

/** Options of {@link uniqueTopology}. */
export interface UniqueTopologyOptions {
  /** Arguments of the work queue; ferry's quorum defaults when omitted. */
  readonly queueArguments?: AmqpArguments;
  /** `false` leaves the dead-letter exchange and queue undeclared (ferry's option still names them). */
  readonly withDeadLetter?: boolean;
}

/** Fresh names for `label` (readable in `rabbitmqctl list_queues`) and their topology. */
export function uniqueTopology(label: string, options: UniqueTopologyOptions = {}): TestTopology {
  const base = `ferry-it-${label}-${randomBytes(4).toString('hex')}`;
  const names = {
    exchange: `${base}.x`,
    queue: `${base}.q`,
    deadLetterExchange: `${base}.dlx`,
    deadLetterQueue: `${base}.dlq`,
  };
  const full = buildTopology({
    exchange: names.exchange,
    queues: [names.queue],
    deadLetterExchange: names.deadLetterExchange,
    deadLetterQueue: names.deadLetterQueue,
    ...(options.queueArguments === undefined ? {} : { queueArguments: options.queueArguments }),
  });
  const topology = options.withDeadLetter === false ? withoutDeadLetter(full, names) : full;
  return {
    ...names,
    topology,
    producerOptions: {
      topology: { declare: topology, deadLetterExchange: names.deadLetterExchange },
      connection: { healthCheckExchange: names.exchange },
    },
  };
}

function withoutDeadLetter(
  topology: Topology,
  names: { readonly deadLetterExchange: string; readonly deadLetterQueue: string },
): Topology {
  return {
    exchanges: topology.exchanges.filter((exchange) => exchange.name !== names.deadLetterExchange),
    queues: topology.queues.filter((queue) => queue.name !== names.deadLetterQueue),
    bindings: topology.bindings.filter((binding) => binding.queue !== names.deadLetterQueue),
  };
}

/** Runs `work` on a channel of a short-lived connection of its own, then closes the connection. */
export async function withChannel<T>(url: string, work: (channel: Channel) => Promise<T>): Promise<T> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    // A refused operation (404 of a passive check) closes the channel and rejects `work`'s promise;
    // unheard, amqplib would also throw it as an uncaught 'error'.
    channel.on('error', () => undefined);
    return await work(channel);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Declares the dead-letter exchange and queue that `uniqueTopology(..., { withDeadLetter: false })` left out. */
export function declareDeadLetter(url: string, names: TestTopology): Promise<void> {
  return withChannel(url, async (channel) => {
    await channel.assertExchange(names.deadLetterExchange, 'topic', { durable: true });
    await channel.assertQueue(names.deadLetterQueue, { durable: true });
    await channel.bindQueue(names.deadLetterQueue, names.deadLetterExchange, '#');
  });
}

/** Deletes the test's queues and exchanges; missing ones are fine (a test may not have declared them). */
export async function deleteTopology(url: string, names: TestTopology): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    // A delete of something missing is fine in RabbitMQ 3.10 (no 404), but a channel error elsewhere
    // must not stop the rest: one channel per object.
    const attempt = async (remove: (channel: Channel) => Promise<unknown>): Promise<void> => {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      await remove(channel).catch(() => undefined);
      await channel.close().catch(() => undefined);
    };
    await attempt((channel) => channel.deleteQueue(names.queue));
    await attempt((channel) => channel.deleteQueue(names.deadLetterQueue));
    await attempt((channel) => channel.deleteExchange(names.exchange));
    await attempt((channel) => channel.deleteExchange(names.deadLetterExchange));
  } finally {
    await connection.close().catch(() => undefined);
  }
}
