/**
 * 10,000 messages published concurrently reach the queue exactly once each, every receipt settles
 * `confirmed`, and every message carries the properties Celery and operators rely on.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Producer } from '../../src/producer/producer.js';
import type { PublishRequest } from '../../src/producer/publish-request.js';
import type { PublishReceipt } from '../../src/producer/receipt.js';
import { type Delivery, drainQueue, report, score } from '../faults/support/scorer.js';
import {
  deleteTopology,
  SHARED_BROKER_URL,
  type TestTopology,
  uniqueTopology,
} from './support/broker-objects.js';
import { message, testProducer } from './support/producer.js';

const COUNT = 10_000;
const BATCH = 250;
const created: TestTopology[] = [];

afterAll(async () => {
  for (const names of created) await deleteTopology(SHARED_BROKER_URL, names);
});

/** Checks what every delivered message carries. */
function expectProperties(deliveries: readonly Delivery[], names: TestTopology, since: number): void {
  const earliest = Math.floor(since / 1000);
  const latest = Math.ceil(Date.now() / 1000);
  for (const delivery of deliveries) {
    const { properties } = delivery;
    expect(properties.deliveryMode).toBe(2);
    expect(properties.contentType).toBe('application/json');
    expect(properties.appId).toBe('ferry-it');
    expect(typeof properties.messageId).toBe('string');
    expect(properties.timestamp).toBeGreaterThanOrEqual(earliest);
    expect(properties.timestamp).toBeLessThanOrEqual(latest);
    expect(delivery.exchange).toBe(names.exchange);
    expect(delivery.routingKey).toBe(names.queue);
    const body = JSON.parse(delivery.content.toString('utf8')) as { n: number };
    expect(delivery.messageId).toMatch(new RegExp(`-${body.n}$`));
  }
}

async function publishAndScore(
  scenario: string,
  send: (producer: Producer, requests: PublishRequest[]) => Promise<PublishReceipt[]>,
): Promise<void> {
  const names = uniqueTopology(scenario);
  created.push(names);
  const producer = testProducer({ ...names.producerOptions });
  await producer.start();
  const since = Date.now();
  const requests = Array.from({ length: COUNT }, (_, n) => message(names.exchange, names.queue, scenario, n));
  const receipts = await send(producer, requests);
  expect(receipts).toHaveLength(COUNT);
  const outcomes = await Promise.all(receipts.map((receipt) => receipt.settled));
  expect(outcomes.every((outcome) => outcome === 'confirmed')).toBe(true);
  const status = producer.status();
  expect(status.messages).toMatchObject({ accepted: COUNT, confirmed: COUNT, deadLettered: 0, inFlight: 0 });
  await producer.close();
  const deliveries = await drainQueue(SHARED_BROKER_URL, names.queue);
  const verdict = score(
    receipts.map((receipt) => receipt.messageId),
    deliveries,
  );
  report(scenario, verdict, { ms: Date.now() - since });
  expect(verdict).toMatchObject({ accepted: COUNT, delivered: COUNT, lost: 0, duplicated: 0, unexpected: 0 });
  expectProperties(deliveries, names, since);
}

describe('exactly once on a healthy broker', () => {
  it('Promise.all over 10,000 publish() calls: each delivered once, with its properties', async () => {
    await publishAndScore('publish', (producer, requests) =>
      Promise.all(requests.map((request) => producer.publish(request))),
    );
  }, 60_000);

  it('10,000 messages in concurrent publishMany() batches: each delivered once, with its properties', async () => {
    await publishAndScore('publish-many', async (producer, requests) => {
      const batches: PublishRequest[][] = [];
      for (let i = 0; i < requests.length; i += BATCH) batches.push(requests.slice(i, i + BATCH));
      return (await Promise.all(batches.map((batch) => producer.publishMany(batch)))).flat();
    });
  }, 60_000);
});
