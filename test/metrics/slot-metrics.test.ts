/**
 * Slot metrics in a real prom-client `Registry`: registered through `MetricRegistry` (prom-client's
 * typings name only its own metric classes), scraped with the exposition prom-client writes for its own
 * counters and histograms, and reset by `resetMetrics()`. Fails if an upgrade of prom-client stops
 * reading what slot-metrics.ts gives it.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { SlotCounter, SlotHistogram } from '../../src/metrics/slot-metrics.js';

const buckets = [0.1, 1];

it('scrapes like the prom-client metrics it stands in for, and resets', async () => {
  const slots = new Registry();
  const counter = new SlotCounter({
    name: 'ferry_test_sent_total',
    help: 'sent',
    series: [{ outcome: 'ok' }],
  });
  const histogram = new SlotHistogram({ name: 'ferry_test_seconds', help: 'seconds', buckets });
  counter.registerIn(slots);
  histogram.registerIn(slots);
  counter.inc(0, 0, 3);
  for (const value of [0.05, 0.5, 5]) histogram.observe(value);

  // The same observations through prom-client's own classes give the reference exposition.
  const reference = new Registry();
  const promCounter = new Counter({
    name: 'ferry_test_sent_total',
    help: 'sent',
    labelNames: ['outcome'],
    registers: [reference],
  });
  const promHistogram = new Histogram({
    name: 'ferry_test_seconds',
    help: 'seconds',
    buckets,
    registers: [reference],
  });
  promCounter.inc({ outcome: 'ok' }, 3);
  for (const value of [0.05, 0.5, 5]) promHistogram.observe(value);

  expect(await slots.metrics()).toBe(await reference.metrics());
  expect(slots.getSingleMetric('ferry_test_seconds')).toBe(histogram);

  // Reset, the known series stay exposed, at 0 (a series appearing only once used would read as new).
  slots.resetMetrics();
  const values = (await slots.getMetricsAsJSON()).flatMap((metric) => metric.values.map((v) => v.value));
  expect(values.length).toBeGreaterThan(0);
  expect(values.every((value) => value === 0)).toBe(true);
});
