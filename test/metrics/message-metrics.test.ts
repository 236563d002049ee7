import { register } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { OTHER_ROUTING_KEY } from '../../src/metrics/label-slots.js';
import { createProducerMetrics, type ProducerMetrics } from '../../src/metrics/producer-metrics.js';
import { eventually, outcomes, rig, startedRig, task } from '../producer/helpers.js';
import { sampleValue, waitForValue } from './support.js';

const made: ProducerMetrics[] = [];
afterEach(() => {
  for (const metrics of made.splice(0)) metrics.stop();
});

function metricsOf(
  producer: Parameters<typeof createProducerMetrics>[0],
  options: Parameters<typeof createProducerMetrics>[1] = {},
): ProducerMetrics {
  const metrics = createProducerMetrics(producer, options);
  made.push(metrics);
  return metrics;
}

describe('ml_producer_retry_queue_size', () => {
  it('grows with nacked messages and falls to 0 once their retries are confirmed', async () => {
    const { producer, broker } = await startedRig({ breaker: { failureThreshold: 1_000 } });
    const metrics = metricsOf(producer);
    const read = (name: string, match = {}) => sampleValue(metrics.registry, name, match);
    const receipts = await producer.publishMany([task(1), task(2), task(3)]);
    expect(await read('ml_producer_in_flight_messages')).toBe(3);
    expect(await read('ml_producer_retry_queue_size')).toBe(0);

    broker.session.nack(1);
    expect(await read('ml_producer_retry_queue_size')).toBe(1);
    broker.session.nack(3, true);
    expect(await read('ml_producer_retry_queue_size')).toBe(3);
    expect(await read('ml_producer_nacked_messages_total')).toBe(3);
    expect(await read('ml_producer_in_flight_messages')).toBe(0);

    // The retries go out after their backoff; they stay in the queue until confirmed.
    await eventually(() => broker.session.published.length === 6, 'the three retries');
    expect(await read('ml_producer_retry_attempts_total')).toBe(3);
    expect(await read('ml_producer_retry_queue_size')).toBe(3);
    broker.session.ackAll();
    await waitForValue(metrics.registry, 'ml_producer_retry_queue_size', (v) => v === 0);
    expect(await outcomes(receipts)).toEqual(['confirmed', 'confirmed', 'confirmed']);
    expect(
      await read('ml_producer_tasks_sent_total', { routing_key: 'ml.summarize', outcome: 'confirmed' }),
    ).toBe(3);
    expect(await read('ml_producer_journal_pending_messages')).toBe(0);
  });
});

describe('ml_producer_circuit_breaker_open', () => {
  it('goes 0 → 1 when the breaker trips and back to 0 when its probe is confirmed', async () => {
    const { producer, broker } = await startedRig({ breaker: { failureThreshold: 2, cooldownMs: 30 } });
    const metrics = metricsOf(producer);
    const open = () => sampleValue(metrics.registry, 'ml_producer_circuit_breaker_open');
    expect(await open()).toBe(0);
    expect(await sampleValue(metrics.registry, 'ml_producer_circuit_breaker_trips_total')).toBe(0);

    await producer.publishMany([task(1), task(2)]);
    broker.session.nack(2, true);
    expect(await open()).toBe(1);
    expect(await sampleValue(metrics.registry, 'ml_producer_circuit_breaker_state')).toBe(1);
    expect(await sampleValue(metrics.registry, 'ml_producer_circuit_breaker_trips_total')).toBe(1);
    expect(await sampleValue(metrics.registry, 'ml_producer_healthy')).toBe(0);

    await eventually(() => broker.session.published.length === 3, 'the probe');
    expect(await sampleValue(metrics.registry, 'ml_producer_circuit_breaker_state')).toBe(2);
    expect(await open()).toBe(0);
    broker.session.ack(3);
    await waitForValue(metrics.registry, 'ml_producer_circuit_breaker_state', (v) => v === 0);
    expect(await open()).toBe(0);
    expect(await sampleValue(metrics.registry, 'ml_producer_circuit_breaker_trips_total')).toBe(1);
  });
});

describe('per-message counters and histograms', () => {
  it('counts accepted and settled messages by routing key, with their sizes and durations', async () => {
    const { producer, broker } = await startedRig();
    broker.responder = () => 'ack';
    const metrics = metricsOf(producer);
    const requests = [
      task(1),
      task(2),
      task(3, { routingKey: 'ml.embed', body: { text: 'x'.repeat(2_000) } }),
    ];
    await outcomes(await producer.publishMany(requests));
    const read = (name: string, match = {}, sample?: string) =>
      sampleValue(metrics.registry, name, match, sample);

    expect(await read('ml_producer_messages_accepted_total', { routing_key: 'ml.summarize' })).toBe(2);
    expect(await read('ml_producer_messages_accepted_total', { routing_key: 'ml.embed' })).toBe(1);
    const bytes = broker.published.map((p) => p.content.byteLength);
    const summarizeBytes = (bytes[0] ?? 0) + (bytes[1] ?? 0);
    const size = 'ml_producer_message_size_bytes';
    expect(await read(size, { routing_key: 'ml.summarize' }, `${size}_sum`)).toBe(summarizeBytes);
    expect(await read(size, { routing_key: 'ml.embed' }, `${size}_sum`)).toBe(bytes[2]);
    // The embed body is over 1 KiB: not in the 1024 bucket, in the 4096 one.
    expect(await read(size, { routing_key: 'ml.embed', le: 1024 }, `${size}_bucket`)).toBe(0);
    expect(await read(size, { routing_key: 'ml.embed', le: 4096 }, `${size}_bucket`)).toBe(1);
    expect(await read(size, { routing_key: 'ml.embed', le: '+Inf' }, `${size}_bucket`)).toBe(1);

    const duration = 'ml_producer_publish_duration_seconds';
    const match = { routing_key: 'ml.summarize', outcome: 'confirmed' };
    expect(await read(duration, match, `${duration}_count`)).toBe(2);
    expect(await read(duration, { ...match, le: '+Inf' }, `${duration}_bucket`)).toBe(2);
    const latency = 'ml_producer_confirm_latency_seconds';
    expect(await read(latency, {}, `${latency}_count`)).toBe(3);
  });

  it('counts confirm timeouts and returned messages', async () => {
    const { producer, broker } = await startedRig({
      publish: { confirmTimeoutMs: 20 },
      retry: { maxAttempts: 1 },
    });
    const metrics = metricsOf(producer);
    // m-1 is never answered (a confirm timeout), m-2 is unroutable; their dead letters are confirmed.
    broker.responder = (publish) => {
      if (publish.exchange !== 'tasks') return 'ack';
      return publish.properties.messageId === 'm-2' ? 'return' : undefined;
    };
    const receipts = await producer.publishMany([task(1), task(2)]);
    expect(await outcomes(receipts)).toEqual(['dead-lettered', 'dead-lettered']);
    const read = (name: string, match = {}) => sampleValue(metrics.registry, name, match);
    expect(await read('ml_producer_confirm_timeouts_total')).toBe(1);
    expect(await read('ml_producer_returned_messages_total')).toBe(1);
    expect(await read('ml_producer_nacked_messages_total')).toBe(0);
    expect(await read('ml_producer_dead_lettered_messages_total')).toBe(2);
    const deadLettered = { routing_key: 'ml.summarize', outcome: 'dead_lettered' };
    expect(await read('ml_producer_tasks_sent_total', deadLettered)).toBe(2);
  });

  it('folds routing keys past the limit into one label value', async () => {
    const { producer, broker } = await startedRig();
    broker.responder = () => 'ack';
    const metrics = metricsOf(producer, { maxRoutingKeys: 2 });
    await outcomes(
      await producer.publishMany(['a', 'b', 'c', 'd'].map((key, n) => task(n, { routingKey: `rk.${key}` }))),
    );
    const accepted = 'ml_producer_messages_accepted_total';
    expect(await sampleValue(metrics.registry, accepted, { routing_key: 'rk.a' })).toBe(1);
    expect(await sampleValue(metrics.registry, accepted, { routing_key: 'rk.b' })).toBe(1);
    expect(await sampleValue(metrics.registry, accepted, { routing_key: OTHER_ROUTING_KEY })).toBe(2);
  });
});

describe('createProducerMetrics', () => {
  it('uses its own registry, never the global one, and honours the prefix', async () => {
    const { producer } = rig();
    const metrics = metricsOf(producer, { prefix: 'ferry_' });
    expect(metrics.registry).not.toBe(register);
    expect(register.getSingleMetric('ferry_connection_state')).toBeUndefined();
    expect(await metrics.metrics()).toMatch(/^ferry_connection_state 0$/m);
    expect(metrics.contentType).toBe(metrics.registry.contentType);
  });

  it('stop() removes its metrics and stops observing, so a new set can take the same registry', async () => {
    const { producer, broker } = await startedRig();
    broker.responder = () => 'ack';
    const first = metricsOf(producer);
    first.stop();
    expect(first.registry.getMetricsAsArray()).toHaveLength(0);
    const second = metricsOf(producer, { registry: first.registry });
    await outcomes([await producer.publish(task(1))]);
    const sent = { routing_key: 'ml.summarize', outcome: 'confirmed' };
    expect(await sampleValue(second.registry, 'ml_producer_tasks_sent_total', sent)).toBe(1);
  });
});
