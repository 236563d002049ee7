/**
 * The semconv client metrics, `messaging.client.sent.messages` and `messaging.client.operation.duration`,
 * once a MeterProvider is registered (after the producer was created: it is picked up when it comes);
 * nothing is recorded before.
 */
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { expect, it } from 'vitest';
import { outcomes, startedRig, task } from '../producer/helpers.js';

/** A reader the test collects from by hand. */
class ManualReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

function metricNamed(collected: ResourceMetrics, name: string) {
  return collected.scopeMetrics
    .filter((scope) => scope.scope.name === 'ferry')
    .flatMap((scope) => scope.metrics)
    .find((metric) => metric.descriptor.name === name);
}

it('counts sent messages and records their duration, with error.type for a dead-lettered one', async () => {
  const { producer, broker } = await startedRig({ retry: { maxAttempts: 1 } });
  // Before a provider is registered: nothing to record into, nothing recorded.
  const early = await producer.publish(task(0));
  broker.session.ackAll();
  await outcomes([early]);

  const reader = new ManualReader();
  const provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  try {
    const confirmed = await producer.publish(task(1));
    const failed = await producer.publish(task(2, { routingKey: 'ml.embed' }));
    broker.session.ack(2);
    broker.session.nack(3);
    // The dead-letter hand-off is the next write: confirm it.
    await expect.poll(() => broker.session.published.length).toBe(4);
    broker.session.ack(4);
    await expect(outcomes([confirmed, failed])).resolves.toEqual(['confirmed', 'dead-lettered']);

    const { resourceMetrics } = await reader.collect();
    const sent = metricNamed(resourceMetrics, 'messaging.client.sent.messages');
    expect(sent?.descriptor.unit).toBe('{message}');
    const common = {
      'messaging.system': 'rabbitmq',
      'messaging.operation.name': 'publish',
      'messaging.operation.type': 'send',
      'server.address': 'fake',
      'server.port': 5672,
    };
    expect(sent?.dataPoints.map((point) => ({ attributes: point.attributes, value: point.value }))).toEqual([
      { attributes: { ...common, 'messaging.destination.name': 'tasks:ml.summarize' }, value: 1 },
      {
        attributes: { ...common, 'messaging.destination.name': 'tasks:ml.embed', 'error.type': 'NACKED' },
        value: 1,
      },
    ]);
    const duration = metricNamed(resourceMetrics, 'messaging.client.operation.duration');
    expect(duration?.descriptor.unit).toBe('s');
    expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const counts = duration?.dataPoints.map((point) => (point.value as { count: number }).count);
    expect(counts).toEqual([1, 1]);
  } finally {
    metrics.disable();
    await provider.shutdown();
  }
});

it('counts every message of a burst of confirms, added once per destination', async () => {
  const { producer, broker } = await startedRig();
  const reader = new ManualReader();
  const provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  try {
    const receipts = await producer.publishMany(Array.from({ length: 5 }, (_, i) => task(i + 1)));
    broker.session.ackAll();
    await outcomes(receipts);
    const { resourceMetrics } = await reader.collect();
    const sent = metricNamed(resourceMetrics, 'messaging.client.sent.messages');
    expect(sent?.dataPoints.map((point) => point.value)).toEqual([receipts.length]);
    const duration = metricNamed(resourceMetrics, 'messaging.client.operation.duration');
    expect(duration?.dataPoints.map((point) => (point.value as { count: number }).count)).toEqual([
      receipts.length,
    ]);
  } finally {
    metrics.disable();
    await provider.shutdown();
  }
});
