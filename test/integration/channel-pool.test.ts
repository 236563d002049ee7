/**
 * The channel pool (`channels: 4`) against the shared broker: messages over several routing keys go
 * on four confirm channels of one connection, each key's messages in their order, nothing lost; and
 * when the broker closes one channel of the pool (a publish to an exchange that does not exist yet:
 * 404), only that channel's messages are handed back and retried, it is reopened on its own, and the
 * keys on the other channels keep their exact order with no duplicate.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { pickChannel } from '../../src/amqp/channel-pick.js';
import type { SettleOutcome } from '../../src/amqp/confirm-tracker.js';
import { buildTopology } from '../../src/amqp/topology.js';
import type { PublishRequest } from '../../src/producer/publish-request.js';
import { rabbitmqctl } from '../amqp/helpers.js';
import { type Delivery, drainQueue } from '../faults/support/scorer.js';
import { SHARED_BROKER_URL, withChannel } from './support/broker-objects.js';
import { statusWhere, testProducer } from './support/producer.js';

const CHANNELS = 4;
const KEYS = 12;
const PER_KEY = 500;
const created: { exchange: string; queues: string[] }[] = [];

afterAll(async () => {
  await withChannel(SHARED_BROKER_URL, async (channel) => {
    for (const { exchange, queues } of created) {
      for (const queue of queues) await channel.deleteQueue(queue);
      await channel.deleteExchange(exchange);
      await channel.deleteExchange(`${exchange}.dlx`);
    }
  });
});

/** An exchange with {@link KEYS} classic queues, each bound with its own name; a dead-letter queue. */
function poolTopology(label: string) {
  const base = `ferry-it-pool-${label}-${Math.random().toString(16).slice(2, 10)}`;
  const keys = Array.from({ length: KEYS }, (_, k) => `${base}.k${k}`);
  const names = {
    exchange: `${base}.x`,
    deadLetterExchange: `${base}.x.dlx`,
    deadLetterQueue: `${base}.dlq`,
  };
  created.push({ exchange: names.exchange, queues: [...keys, names.deadLetterQueue] });
  const topology = buildTopology({ ...names, queues: keys, queueArguments: {} });
  return { ...names, keys, topology };
}

/** Message `seq` of `key`, numbered per key. */
function request(exchange: string, key: string, seq: number): PublishRequest {
  return { exchange, routingKey: key, messageId: `${key}#${seq}`, body: { key, seq } };
}

/** The per-key sequence numbers a queue holds, in queue order. */
function sequences(deliveries: readonly Delivery[]): number[] {
  return deliveries.map((delivery) => (JSON.parse(delivery.content.toString()) as { seq: number }).seq);
}

/** Confirm channels the broker shows on the connection named `clientName`. */
async function confirmChannelsOf(clientName: string): Promise<number> {
  const connections = (await rabbitmqctl('list_connections', 'pid', 'client_properties')).split('\n');
  const pid = connections.find((row) => row.includes(`{"connection_name","${clientName}"}`))?.split('\t')[0];
  if (pid === undefined) throw new Error(`no connection named ${clientName}`);
  const channels = (await rabbitmqctl('list_channels', 'connection', 'confirm')).split('\n');
  return channels.filter((row) => row.startsWith(`${pid}\t`) && row.endsWith('\ttrue')).length;
}

const upTo = (count: number): number[] => Array.from({ length: count }, (_, n) => n);

describe('the channel pool against the broker', () => {
  it('channels: 4 — four confirm channels, every key in order, nothing lost', async () => {
    const { exchange, keys, topology, deadLetterExchange } = poolTopology('order');
    const clientName = `ferry-it-pool-${Math.random().toString(16).slice(2, 10)}`;
    const producer = testProducer({
      topology: { declare: topology, deadLetterExchange },
      connection: { channels: CHANNELS, clientName },
    });
    await producer.start();
    expect(producer.status().connection.channels).toBe(CHANNELS);
    expect(await confirmChannelsOf(clientName)).toBe(CHANNELS);
    // The keys really are spread: more than one channel carries them.
    expect(new Set(keys.map((key) => pickChannel(key, CHANNELS))).size).toBeGreaterThan(1);

    for (let seq = 0; seq < PER_KEY; seq += 50) {
      const batch = keys.flatMap((key) => upTo(50).map((n) => request(exchange, key, seq + n)));
      await producer.publishMany(batch);
    }
    await producer.flush();
    const { messages } = producer.status();
    expect(messages).toMatchObject({ accepted: KEYS * PER_KEY, confirmed: KEYS * PER_KEY, deadLettered: 0 });

    for (const key of keys)
      expect(sequences(await drainQueue(SHARED_BROKER_URL, key))).toEqual(upTo(PER_KEY));
  }, 120_000);

  it('one channel of the pool closed by the broker: its messages retried, the other channels untouched', async () => {
    const { exchange, keys, topology, deadLetterExchange, deadLetterQueue } = poolTopology('fault');
    const missing = `${exchange}.missing`;
    created.push({ exchange: missing, queues: [] });
    const producer = testProducer({
      topology: { declare: topology, deadLetterExchange },
      connection: { channels: CHANNELS, healthCheckExchange: exchange },
      // Retries wait a second: by then the missing exchange exists, so the channel closes once.
      retry: { initialDelayMs: 1_000, maxDelayMs: 2_000, jitterFactor: 0 },
    });
    // Once the broker closed the channel, the exchange appears (bound to the dead-letter queue): the
    // poison's retry is confirmed, and no second close takes the retried messages down again.
    let healed: Promise<void> | undefined;
    const heal = () =>
      withChannel(SHARED_BROKER_URL, async (channel) => {
        await channel.assertExchange(missing, 'topic', { durable: false });
        await channel.bindQueue(deadLetterQueue, missing, '#');
      });
    const answers: Record<SettleOutcome, number> = {
      confirmed: 0,
      nacked: 0,
      returned: 0,
      'confirm-timeout': 0,
      'channel-lost': 0,
    };
    producer.observe({
      accepted: () => undefined,
      answered: (outcome) => {
        answers[outcome] += 1;
        if (outcome === 'channel-lost') healed ??= heal();
      },
      settled: () => undefined,
      retried: () => undefined,
      connecting: () => undefined,
    });
    await producer.start();
    const broken = keys[0] as string;
    const brokenChannel = pickChannel(broken, CHANNELS);
    const affected = keys.filter((key) => pickChannel(key, CHANNELS) === brokenChannel);
    const untouched = keys.filter((key) => pickChannel(key, CHANNELS) !== brokenChannel);
    expect(untouched.length).toBeGreaterThan(0);

    let poison: Promise<unknown> | undefined;
    for (let seq = 0; seq < PER_KEY; seq += 50) {
      const batch = keys.flatMap((key) => upTo(50).map((n) => request(exchange, key, seq + n)));
      await producer.publishMany(batch);
      // A third of the way in, a message to an exchange that does not exist on the broken key's
      // channel: the broker closes that channel (404) with the messages in flight on it.
      if (seq === 150) {
        const [receipt] = await producer.publishMany([
          { exchange: missing, routingKey: broken, messageId: 'poison', body: {} },
        ]);
        poison = receipt?.settled;
      }
    }
    await producer.flush();
    // The poison message closed its channel once, and was confirmed on its retry.
    await expect(poison).resolves.toBe('confirmed');
    await healed;
    expect(answers['channel-lost']).toBeGreaterThan(0);
    const status = await statusWhere(
      producer,
      (s) => s.connection.channels === CHANNELS,
      'the pool reopened',
    );
    // Only a channel was lost: the connection stayed up.
    expect(status.connection.reconnects).toBe(0);
    expect(status.messages).toMatchObject({ accepted: KEYS * PER_KEY + 1, deadLettered: 0 });

    // The other channels' keys: exactly their messages, in order, no duplicate.
    for (const key of untouched)
      expect(sequences(await drainQueue(SHARED_BROKER_URL, key))).toEqual(upTo(PER_KEY));
    // The broken channel's keys: every message (lost 0); a retried one may arrive twice and out of order.
    for (const key of affected) {
      const seen = sequences(await drainQueue(SHARED_BROKER_URL, key));
      expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(upTo(PER_KEY));
    }
    const deadLetters = await drainQueue(SHARED_BROKER_URL, deadLetterQueue);
    expect(deadLetters.map((delivery) => delivery.messageId)).toEqual(['poison']);
  }, 120_000);
});
