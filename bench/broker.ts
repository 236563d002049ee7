/**
 * The runner's side of the broker: unique bench objects, purge and count between runs, drain for the
 * recovery score, and removal at the end. Counting uses `checkQueue`'s message count (no management
 * plugin needed).
 */
import { execFile } from 'node:child_process';
import { type Channel, type ChannelModel, connect } from 'amqplib';
import { SPREAD_KEYS, spreadKey } from './workload.js';

/** The objects of one bench invocation on one broker. */
export interface BenchObjects {
  /** A durable direct exchange every client publishes to (celery-node uses the default exchange). */
  readonly exchange: string;
  /**
   * A durable classic queue bound with its own name (and the channel-pool clients' spread keys, see
   * `spreadKey`): the routed variants' queue.
   */
  readonly queue: string;
  /**
   * A non-durable queue with `x-max-length: 0`, bound with its own name, for the client-bound variant:
   * messages are routed (so a mandatory publish is not returned, which ferry would treat as a failure)
   * and dropped at once, and a non-durable queue writes nothing to disk.
   */
  readonly voidQueue: string;
  /**
   * The exchange's alternate exchange (fanout) and the durable queue bound to it: what no binding
   * routes lands there instead of vanishing. Free for routed messages; ferry's `unroutable` option
   * uses it to publish without `mandatory`.
   */
  readonly alternateExchange: string;
  readonly unroutableQueue: string;
}

/** The bench objects for invocation `id` (letters and digits). */
export function benchObjects(id: string): BenchObjects {
  return {
    exchange: `ferry-bench-${id}`,
    queue: `ferry-bench-${id}-routed`,
    voidQueue: `ferry-bench-${id}-void`,
    alternateExchange: `ferry-bench-${id}-ae`,
    unroutableQueue: `ferry-bench-${id}-unroutable`,
  };
}

/** A short-lived admin connection: opened per use so that it never outlives a step. */
export async function withChannel<T>(url: string, use: (channel: Channel) => Promise<T>): Promise<T> {
  const model: ChannelModel = await connect(url);
  model.on('error', () => undefined);
  try {
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    return await use(channel);
  } finally {
    await model.close().catch(() => undefined);
  }
}

/** Runs `rabbitmqctl` against the broker the objects live on; resolves with its output. */
export type RabbitmqCtl = (...args: string[]) => Promise<unknown>;

/** `rabbitmqctl` for the shared broker (the default node). */
export function sharedCtl(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('rabbitmqctl', args, { timeout: 60_000 }, (error, stdout) => {
      if (error === null) resolve(stdout);
      else reject(error);
    });
  });
}

/** The policy that names the alternate exchange on the bench exchange. */
function policyName(objects: BenchObjects): string {
  return `${objects.exchange}-alternate-exchange`;
}

/**
 * Declares the exchange, its alternate exchange and the queues with their bindings. The alternate
 * exchange is linked by a policy, as in production (docs/operations/unroutable.md): some clients
 * declare the exchange themselves, without arguments, which an `alternate-exchange` argument would
 * make the broker refuse (406).
 */
export async function declareObjects(url: string, objects: BenchObjects, ctl: RabbitmqCtl): Promise<void> {
  await withChannel(url, async (channel) => {
    await channel.assertExchange(objects.alternateExchange, 'fanout', { durable: true });
    await channel.assertQueue(objects.unroutableQueue, { durable: true });
    await channel.bindQueue(objects.unroutableQueue, objects.alternateExchange, '');
    await channel.assertExchange(objects.exchange, 'direct', { durable: true });
    await channel.assertQueue(objects.queue, { durable: true });
    await channel.bindQueue(objects.queue, objects.exchange, objects.queue);
    await channel.assertQueue(objects.voidQueue, { durable: false, arguments: { 'x-max-length': 0 } });
    await channel.bindQueue(objects.voidQueue, objects.exchange, objects.voidQueue);
    // The channel-pool clients' keys, to the same queues.
    for (let n = 0; n < SPREAD_KEYS; n += 1) {
      await channel.bindQueue(objects.queue, objects.exchange, spreadKey(objects.queue, n));
      await channel.bindQueue(objects.voidQueue, objects.exchange, spreadKey(objects.voidQueue, n));
    }
  });
  // `(?!.)` ends the pattern: the policy must not match longer names ('$' does not survive the
  // Debian wrapper's re-quoting).
  await ctl(
    'set_policy',
    '--apply-to',
    'exchanges',
    policyName(objects),
    `^${objects.exchange}(?!.)`,
    JSON.stringify({ 'alternate-exchange': objects.alternateExchange }),
  );
}

/** Messages in `queue` now. */
export function countMessages(url: string, queue: string): Promise<number> {
  return withChannel(url, async (channel) => (await channel.checkQueue(queue)).messageCount);
}

/** Empties `queue`. */
export function purge(url: string, queue: string): Promise<void> {
  return withChannel(url, async (channel) => {
    await channel.purgeQueue(queue);
  });
}

/** Consumes everything in `queue` and returns the message ids, in queue order. */
export function drainIds(url: string, queue: string): Promise<string[]> {
  return withChannel(url, async (channel) => {
    const { messageCount } = await channel.checkQueue(queue);
    const ids: string[] = [];
    if (messageCount === 0) return ids;
    await new Promise<void>((resolve, reject) => {
      channel
        .consume(
          queue,
          (message) => {
            if (message === null) return;
            ids.push(String(message.properties.messageId));
            if (ids.length === messageCount) resolve();
          },
          { noAck: true },
        )
        .catch(reject);
    });
    return ids;
  });
}

/** Deletes the policy, the exchanges and the queues; missing objects are fine. */
export async function deleteObjects(url: string, objects: BenchObjects, ctl: RabbitmqCtl): Promise<void> {
  await ctl('clear_policy', policyName(objects)).catch(() => undefined);
  await withChannel(url, async (channel) => {
    await channel.deleteQueue(objects.queue);
    await channel.deleteQueue(objects.voidQueue);
    await channel.deleteQueue(objects.unroutableQueue);
    await channel.deleteExchange(objects.exchange);
    await channel.deleteExchange(objects.alternateExchange);
  });
}
