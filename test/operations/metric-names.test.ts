/**
 * Every `ml_producer_*` name the docs and the alert rules mention is a metric ferry exports: an alert
 * or a runbook naming a metric that does not exist stays silent when it should fire.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProducerMetrics } from '../../src/metrics/producer-metrics.js';
import { createProducer } from '../../src/producer/producer.js';
import { journalBytesMetric } from '../../src/service/journal-metric.js';

const FILES = [
  'docs/reliability.md',
  'README.md',
  ...readdirSync('docs/operations')
    .filter((name) => /\.(md|yml)$/.test(name))
    .map((name) => join('docs/operations', name)),
];

/** Names in those files that are not metrics: the original alert group's name. */
const NOT_METRICS = new Set(['ml_producer_reliability']);

/**
 * The series names a scrape of `ferry serve` can show (histograms add their suffixes): the producer's
 * metrics and the service's own, such as the sqlite journal's disk use.
 */
async function exportedNames(): Promise<Set<string>> {
  const producer = createProducer({ journal: { kind: 'memory' } });
  const metrics = createProducerMetrics(producer);
  journalBytesMetric({ kind: 'sqlite', path: 'never-opened.db' }, metrics.registry);
  try {
    const names = new Set<string>();
    for (const metric of await metrics.registry.getMetricsAsJSON()) {
      names.add(metric.name);
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
    }
    return names;
  } finally {
    metrics.stop();
    await producer.close();
  }
}

describe('metric names in the docs', () => {
  it('name only metrics ferry exports', async () => {
    const exported = await exportedNames();
    expect(exported.has('ml_producer_retry_queue_size')).toBe(true);
    const unknown: string[] = [];
    for (const file of FILES) {
      const text = readFileSync(file, 'utf8');
      for (const [name] of text.matchAll(/\bml_producer_[a-z_]+[a-z]/g)) {
        if (!exported.has(name) && !NOT_METRICS.has(name)) unknown.push(`${file}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
