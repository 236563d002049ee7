/**
 * The Grafana dashboard queries only metrics ferry exports, and shows each of them. The exported names
 * come from a registry built by createProducerMetrics on an unstarted producer, not from a list here.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createProducerMetrics } from '../../src/metrics/producer-metrics.js';
import { createProducer } from '../../src/producer/producer.js';
import { FakeBroker } from '../support/fake-broker.js';

interface Target {
  readonly expr?: string;
}
interface Panel {
  readonly type: string;
  readonly title?: string;
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}
interface Dashboard {
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: {
    readonly list: readonly { readonly name: string; readonly type: string; readonly query?: unknown }[];
  };
}

const path = fileURLToPath(new URL('../../docs/operations/grafana-dashboard.json', import.meta.url));
const dashboard = JSON.parse(readFileSync(path, 'utf8')) as Dashboard;

const producer = createProducer({ topology: { declare: false } }, { broker: new FakeBroker() });
const metrics = createProducerMetrics(producer);
afterAll(async () => {
  metrics.stop();
  await producer.close();
});

/** Every series name a scrape can contain: histograms expose `_bucket`, `_sum` and `_count`. */
function exportedSeries(): Map<string, string> {
  const series = new Map<string, string>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const { name } = metric as unknown as { name: string; type: string };
    const { type } = metric as unknown as { type: string };
    const suffixes = type === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
    for (const suffix of suffixes) series.set(name + suffix, name);
  }
  return series;
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
]);

/** The metric names a PromQL expression selects: identifiers that are not functions, labels or keywords. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // range selectors
    .replace(/\$\w+/g, '') // dashboard variables
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ''); // grouping labels
  return [...stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\()?)/g)]
    .filter((match) => match[1] === undefined && !PROMQL_WORDS.has(match[0]))
    .map((match) => match[0]);
}

function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

describe('docs/operations/grafana-dashboard.json', () => {
  it('has a stable uid and a Prometheus data source variable', () => {
    expect(dashboard.uid).toBe('ferry-producer');
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
  });

  it('finds metric names in PromQL (the check below can fail)', () => {
    expect(
      metricNames('histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="y"}[$__rate_interval]))) / b'),
    ).toEqual(['a_bucket', 'b']);
    expect(metricNames('sum(rate(not_ours_total[5m]))')).toEqual(['not_ours_total']);
  });

  it('queries only metrics ferry exports, and every one of them', () => {
    const exported = exportedSeries();
    expect(exported.size).toBeGreaterThan(20);
    const shown = new Set<string>();
    const queried = allPanels(dashboard.panels).filter((panel) => panel.type !== 'row');
    for (const panel of queried) {
      expect(panel.targets?.length ?? 0, `${panel.title} has no query`).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const names = metricNames(target.expr ?? '');
        expect(names.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
        for (const name of names) {
          expect(exported.has(name), `${panel.title} queries ${name}, which ferry does not export`).toBe(
            true,
          );
          shown.add(exported.get(name) as string);
        }
      }
    }
    const base = new Set(exported.values());
    expect([...base].filter((name) => !shown.has(name))).toEqual([]);
  });
});
