/**
 * The metrics of a producer publishing to the shared broker on 127.0.0.1:5672, scraped while messages
 * flow, into a topology of the test's own that it deletes afterwards.
 */
import { afterAll, expect, it } from 'vitest';
import { buildTopology } from '../../src/amqp/topology.js';
import { createProducerMetrics } from '../../src/metrics/producer-metrics.js';
import { createProducer } from '../../src/producer/producer.js';
import { BROKER_URL, deleteObjects, messageCount, uniqueName } from '../amqp/helpers.js';
import { sampleValue } from './support.js';

const exchange = uniqueName('metrics-x');
const queue = uniqueName('metrics-q');
const deadLetterExchange = uniqueName('metrics-dlx');
const deadLetterQueue = uniqueName('metrics-dlq');
const topology = buildTopology({
  exchange,
  queues: [queue],
  // Classic: this queue is the test's own, not a worker's, and is deleted at the end.
  queueArguments: { 'x-queue-type': 'classic' },
  deadLetterExchange,
  deadLetterQueue,
});

afterAll(() =>
  deleteObjects({ queues: [queue, deadLetterQueue], exchanges: [exchange, deadLetterExchange] }),
);

/** One exposition line: a name, optional labels, a number. */
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (-?[0-9.e+-]+|\+Inf|NaN)$/;

it('reports the flow of messages to a real broker while they flow', async () => {
  const producer = createProducer({
    seed: 7,
    closeTimeoutMs: 5_000,
    connection: { url: BROKER_URL },
    topology: { declare: topology, deadLetterExchange },
  });
  const metrics = createProducerMetrics(producer);
  try {
    await producer.start();
    expect(await sampleValue(metrics.registry, 'ml_producer_connection_state')).toBe(3);

    const batches = 20;
    const perBatch = 100;
    const total = batches * perBatch;
    const receipts = [];
    const scrapes: string[] = [];
    for (let batch = 0; batch < batches; batch += 1) {
      const requests = Array.from({ length: perBatch }, (_, n) => ({
        exchange,
        routingKey: queue,
        body: { batch, n, text: 'x'.repeat(512) },
      }));
      receipts.push(...(await producer.publishMany(requests)));
      scrapes.push(await metrics.metrics());
    }
    const outcomes = await Promise.all(receipts.map((receipt) => receipt.settled));
    expect(outcomes.every((outcome) => outcome === 'confirmed')).toBe(true);

    // Every scrape taken mid-flow is well-formed and shows the acceptances so far.
    scrapes.forEach((text, index) => {
      for (const line of text.split('\n')) {
        if (line !== '' && !line.startsWith('#')) expect(line).toMatch(SAMPLE);
      }
      const accepted = text.match(/^ml_producer_messages_accepted_total\{routing_key="[^"]+"\} (\d+)$/m);
      expect(Number(accepted?.[1])).toBe((index + 1) * perBatch);
    });
    // Scraped right after a batch was written, before any I/O: its confirms cannot have arrived yet.
    const inFlight = scrapes.map((text) =>
      Number(text.match(/^ml_producer_in_flight_messages (\d+)$/m)?.[1]),
    );
    expect(inFlight.some((count) => count > 0)).toBe(true);

    const read = (name: string, match = {}, sample?: string) =>
      sampleValue(metrics.registry, name, match, sample);
    expect(await read('ml_producer_tasks_sent_total', { routing_key: queue, outcome: 'confirmed' })).toBe(
      total,
    );
    const duration = 'ml_producer_publish_duration_seconds';
    expect(await read(duration, { routing_key: queue, outcome: 'confirmed' }, `${duration}_count`)).toBe(
      total,
    );
    const latency = 'ml_producer_confirm_latency_seconds';
    expect(await read(latency, {}, `${latency}_count`)).toBe(total);
    expect(await read(latency, {}, `${latency}_sum`)).toBeGreaterThan(0);
    expect(await read('ml_producer_in_flight_messages')).toBe(0);
    expect(await read('ml_producer_retry_queue_size')).toBe(0);
    expect(await read('ml_producer_journal_pending_messages')).toBe(0);
    expect(await read('ml_producer_nacked_messages_total')).toBe(0);
    expect(await read('ml_producer_circuit_breaker_open')).toBe(0);
    expect(await messageCount(queue)).toBe(total);
  } finally {
    metrics.stop();
    await producer.close();
  }
}, 30_000);
