/**
 * The broker's objects change under a running stream: the binding is removed, the queue is deleted,
 * the exchange is deleted. ferry declares its topology when it connects, and again (at most once a
 * second) when the broker shows part of it missing, so:
 *
 * - binding removed / queue deleted: the first publishes are returned (unroutable), which declares the
 *   topology again; those returned are retried with backoff and mostly routed, the few whose attempts
 *   ran out first are dead-lettered `RETURNED`. The scenario still forces a reconnect afterwards.
 * - exchange deleted: a publish to it is a 404 that closes the confirm channel (its pending confirms
 *   become unknown outcomes, republished); the exchange is declared again before the channel is
 *   reopened. The health check (`checkExchange`) may also see the 404 first and reconnect.
 *
 * Only the test's own objects change, so these run on the shared broker, with ferry behind its own
 * proxy (to force a reconnect without touching anyone else's connection).
 */
import amqp, { type Channel } from 'amqplib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SettleOutcome } from '../../src/amqp/confirm-tracker.js';
import type { AmqpArguments } from '../../src/amqp/topology.js';
import {
  deleteTopology,
  SHARED_BROKER_URL,
  type TestTopology,
  uniqueTopology,
  withChannel,
} from '../integration/support/broker-objects.js';
import { mergeOptions } from '../support/merge-options.js';
import { FaultProxy } from './support/fault-proxy.js';
import {
  faultProducer,
  faultSeed,
  type RunView,
  runFault,
  SOAK,
  scenarioRandom,
} from './support/fault-run.js';
import { type Delivery, deliveryOf, drainQueue } from './support/scorer.js';

const seed = faultSeed('topology');
const MESSAGES = SOAK ? 10_000 : 3_000;
/** How long an object stays missing before the heal: several retries of the affected messages. */
const FAULT_MS = 1_500;
/** How much later than the broker's delete-ok the ack of a message caught by the deletion may arrive. */
const CONFIRM_SLACK_MS = 200;
const created: TestTopology[] = [];
const proxies: FaultProxy[] = [];

afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.stop();
});
afterAll(async () => {
  for (const names of created) await deleteTopology(SHARED_BROKER_URL, names);
});

async function setup(scenario: string, queueArguments?: AmqpArguments) {
  const random = scenarioRandom(seed, scenario);
  const names = uniqueTopology(`fault-${scenario}`, queueArguments === undefined ? {} : { queueArguments });
  created.push(names);
  const proxy = await FaultProxy.start({ targetPort: 5672, random });
  proxies.push(proxy);
  const run = faultProducer(
    mergeOptions(names.producerOptions, {
      seed,
      connection: { url: proxy.url, healthCheckIntervalMs: 500 },
      // The channel closes that a deleted exchange causes count against the breaker; a short cooldown
      // keeps the run short (the default is 30 s).
      breaker: { cooldownMs: 500 },
    }),
  );
  const answers = { returned: 0, 'channel-lost': 0 };
  run.producer.observe({
    accepted: () => undefined,
    answered: (outcome: SettleOutcome) => {
      if (outcome === 'returned' || outcome === 'channel-lost') answers[outcome] += 1;
    },
    settled: () => undefined,
    retried: () => undefined,
    connecting: () => undefined,
  });
  /** The broker answered `outcome` at least once, and the fault has lasted a while. */
  const seen =
    (outcome: keyof typeof answers) =>
    (view: RunView): boolean =>
      Date.now() - view.injectedAt >= FAULT_MS && answers[outcome] > 0;
  return { random, names, proxy, run, seen };
}

describe(`topology faults (seed ${seed})`, () => {
  it('binding removed mid-stream: returned, declared again, retried; few dead-lettered RETURNED', async () => {
    const { random, names, proxy, run, seen } = await setup('binding-removed');
    const result = await runFault({
      scenario: 'binding-removed',
      run,
      names,
      brokerUrl: SHARED_BROKER_URL,
      random,
      messages: MESSAGES,
      inject: () =>
        withChannel(SHARED_BROKER_URL, (channel) =>
          channel.unbindQueue(names.queue, names.exchange, names.queue),
        ),
      healWhen: seen('returned'),
      heal: () => proxy.closeAll(),
      reconnects: true,
      workDuringFault: 'every message is returned and retried by its own actor',
    });
    expect(result.verdict.delivered + result.verdict.deadLettered).toBe(result.verdict.accepted);
    expect(Object.keys(result.verdict.deadLetterReasons).filter((reason) => reason !== 'RETURNED')).toEqual(
      [],
    );
  }, 120_000);

  it('queue deleted mid-stream: returned, declared again, retried; few dead-lettered RETURNED', async () => {
    // A classic queue: `if-empty` lets the test delete it without destroying confirmed messages.
    const { random, names, proxy, run, seen } = await setup('queue-deleted', {});
    const deletion = { startedAt: 0, endedAt: 0 };
    // Connected first, so that the queue exists for the consumer.
    await run.producer.start();
    const consumer = await LiveConsumer.start(SHARED_BROKER_URL, names.queue);
    try {
      const result = await runFault({
        scenario: 'queue-deleted',
        run,
        names,
        brokerUrl: SHARED_BROKER_URL,
        random,
        messages: MESSAGES,
        inject: async () => {
          deletion.startedAt = Date.now();
          await deleteWhenEmpty(names.queue);
          deletion.endedAt = Date.now();
        },
        healWhen: seen('returned'),
        heal: async () => {
          proxy.closeAll();
          await consumer.resume();
        },
        reconnects: true,
        workDuringFault: 'every message is returned and retried by its own actor',
        collect: () => consumer.stop(),
        // A message routed to the queue as it is deleted is confirmed (the queue went away normally)
        // and gone with it: the broker's loss, documented in docs/reliability.md. Only messages
        // confirmed while the deletion ran can be that.
        droppedByBroker: (settledAt, outcomes) =>
          [...settledAt]
            .filter(
              ([id, at]) =>
                outcomes.get(id) === 'confirmed' &&
                at >= deletion.startedAt &&
                at <= deletion.endedAt + CONFIRM_SLACK_MS,
            )
            .map(([id]) => id),
      });
      const { delivered, deadLettered, droppedByBroker } = result.verdict;
      expect(delivered + deadLettered + droppedByBroker).toBe(result.verdict.accepted);
    } finally {
      await consumer.stop();
    }
  }, 120_000);

  it('exchange deleted mid-stream: 404 closes the channel, the exchange is declared again before the reopen', async () => {
    const { random, names, run, seen } = await setup('exchange-deleted');
    await runFault({
      scenario: 'exchange-deleted',
      run,
      names,
      brokerUrl: SHARED_BROKER_URL,
      random,
      messages: MESSAGES,
      inject: () => withChannel(SHARED_BROKER_URL, (channel) => channel.deleteExchange(names.exchange)),
      // Nothing to undo: ferry declares the exchange again itself (or its health check reconnects).
      healWhen: seen('channel-lost'),
      heal: () => undefined,
    });
  }, 120_000);
});

/**
 * Deletes `queue` at a moment when it is empty (the live consumer keeps it so), so that the deletion
 * destroys no confirmed message: a queue deleted with messages in it loses them, and no publisher can
 * prevent that.
 */
async function deleteWhenEmpty(queue: string): Promise<void> {
  let deleted = false;
  const deadline = Date.now() + 10_000;
  while (!deleted) {
    deleted = await withChannel(SHARED_BROKER_URL, (channel) =>
      channel.deleteQueue(queue, { ifEmpty: true }).then(
        () => true,
        () => false,
      ),
    );
    if (!deleted && Date.now() > deadline) throw new Error(`${queue} was never empty`);
  }
}

/** A consumer that records deliveries while the run goes on, and picks up again after its queue returns. */
class LiveConsumer {
  readonly deliveries: Delivery[] = [];
  private channel: Channel | undefined;

  private constructor(
    private readonly connection: amqp.ChannelModel,
    private readonly queue: string,
  ) {}

  static async start(url: string, queue: string): Promise<LiveConsumer> {
    const consumer = new LiveConsumer(await amqp.connect(url), queue);
    await consumer.resume();
    return consumer;
  }

  /** Consumes again once the queue exists (after a deletion cancelled the consumer). */
  async resume(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const channel = await this.connection.createChannel();
      channel.on('error', () => undefined);
      const exists = await channel.checkQueue(this.queue).then(
        () => true,
        () => false,
      );
      if (exists) {
        this.channel = channel;
        await channel.consume(
          this.queue,
          (message) => {
            if (message === null) return;
            this.deliveries.push(deliveryOf(message));
          },
          { noAck: true },
        );
        return;
      }
      if (Date.now() > deadline) throw new Error(`${this.queue} did not come back`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Stops consuming, takes what is left in the queue, and returns every delivery. */
  async stop(): Promise<readonly Delivery[]> {
    if (this.channel !== undefined) {
      const channel = this.channel;
      this.channel = undefined;
      await channel.close().catch(() => undefined);
      this.deliveries.push(...(await drainQueue(SHARED_BROKER_URL, this.queue)));
      await this.connection.close().catch(() => undefined);
    }
    return this.deliveries;
  }
}
