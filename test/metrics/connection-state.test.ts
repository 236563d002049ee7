import { afterEach, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { CONNECTION_STATE_VALUES } from '../../src/metrics/connection-state.js';
import { createProducerMetrics, type ProducerMetrics } from '../../src/metrics/producer-metrics.js';
import { rig, startedRig } from '../producer/helpers.js';
import { FakeBroker } from '../support/fake-broker.js';
import { sampleValue, waitForValue } from './support.js';

const made: ProducerMetrics[] = [];
afterEach(() => {
  for (const metrics of made.splice(0)) metrics.stop();
});

function metricsOf(producer: Parameters<typeof createProducerMetrics>[0]): ProducerMetrics {
  const metrics = createProducerMetrics(producer);
  made.push(metrics);
  return metrics;
}

describe('ml_producer_connection_state', () => {
  it('is 3 when connected, leaves 3 while the connection is down and returns to 3', async () => {
    const { producer, broker } = await startedRig();
    const metrics = metricsOf(producer);
    const state = () => sampleValue(metrics.registry, 'ml_producer_connection_state');
    expect(await state()).toBe(3);
    expect(await sampleValue(metrics.registry, 'ml_producer_healthy')).toBe(1);

    // Hold the next connect attempt so the gap is observable.
    let release = (): void => undefined;
    broker.gate = new Promise((resolve) => {
      release = resolve;
    });
    broker.session.dropConnection();
    expect(await state()).toBe(CONNECTION_STATE_VALUES.reconnecting);
    expect(await sampleValue(metrics.registry, 'ml_producer_healthy')).toBe(0);
    await waitForValue(
      metrics.registry,
      'ml_producer_connection_state',
      (v) => v === CONNECTION_STATE_VALUES.connecting,
    );

    broker.gate = null;
    release();
    await waitForValue(metrics.registry, 'ml_producer_connection_state', (v) => v === 3);
    expect(await sampleValue(metrics.registry, 'ml_producer_reconnects_total')).toBe(1);
    expect(await sampleValue(metrics.registry, 'ml_producer_reconnect_attempts_total')).toBe(1);
  });

  it('counts only the attempts after the first as reconnect attempts', async () => {
    const broker = new FakeBroker();
    broker.failNext.push(
      new FerryError('CONNECTION_REFUSED', 'refused'),
      new FerryError('CONNECTION_REFUSED', 'refused'),
    );
    const { producer } = rig({}, broker);
    const metrics = metricsOf(producer);
    await producer.start();
    expect(broker.connectAttempts).toBe(3);
    expect(await sampleValue(metrics.registry, 'ml_producer_reconnect_attempts_total')).toBe(
      broker.connectAttempts - 1,
    );
    expect(await sampleValue(metrics.registry, 'ml_producer_connection_state')).toBe(3);
  });

  it('counts failed health checks, each of which drops and reopens the connection', async () => {
    const { producer, broker } = await startedRig({ connection: { healthCheckIntervalMs: 5 } });
    const metrics = metricsOf(producer);
    broker.session.healthCheck = () => Promise.reject(new FerryError('NOT_FOUND', 'no exchange'));
    await waitForValue(metrics.registry, 'ml_producer_health_check_failures_total', (v) => v >= 1);
    await waitForValue(metrics.registry, 'ml_producer_reconnects_total', (v) => v >= 1);
  });

  it('is 0 before start and after close', async () => {
    const { producer } = rig();
    const metrics = metricsOf(producer);
    expect(await sampleValue(metrics.registry, 'ml_producer_connection_state')).toBe(0);
    await producer.start();
    expect(await sampleValue(metrics.registry, 'ml_producer_connection_state')).toBe(3);
    await producer.close();
    expect(await sampleValue(metrics.registry, 'ml_producer_connection_state')).toBe(0);
  });

  it('is 4 and connection_blocked 1 while the broker blocks the connection', async () => {
    const { producer, broker } = await startedRig();
    const metrics = metricsOf(producer);
    broker.session.block('low on memory');
    expect(await sampleValue(metrics.registry, 'ml_producer_connection_state')).toBe(
      CONNECTION_STATE_VALUES.blocked,
    );
    expect(await sampleValue(metrics.registry, 'ml_producer_connection_blocked')).toBe(1);
    broker.session.unblock();
    expect(await sampleValue(metrics.registry, 'ml_producer_connection_state')).toBe(3);
    expect(await sampleValue(metrics.registry, 'ml_producer_connection_blocked')).toBe(0);
  });

  it('is 5 when the connection failed for good (bad credentials)', async () => {
    const broker = new FakeBroker();
    broker.refuse = new FerryError('ACCESS_REFUSED', 'bad credentials');
    const { producer } = rig({}, broker);
    const metrics = metricsOf(producer);
    await expect(producer.start()).rejects.toThrow();
    expect(await sampleValue(metrics.registry, 'ml_producer_connection_state')).toBe(
      CONNECTION_STATE_VALUES.failed,
    );
  });
});
