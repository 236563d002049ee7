/**
 * Reading metric values the way Prometheus would: from the registry's collected samples.
 */
import type { Registry } from 'prom-client';
import { vi } from 'vitest';

/** Labels a sample must carry (others are ignored). */
export type Match = Readonly<Record<string, string | number>>;

/**
 * The value of the one sample of metric `name` (or its `_bucket`/`_sum`/`_count` with `sample`) whose
 * labels include `match`; fails when there is none or more than one.
 */
export async function sampleValue(
  registry: Registry,
  name: string,
  match: Match = {},
  sample: string = name,
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = (await metric.get()) as {
    values: { labels: Match; value: number; metricName?: string }[];
  };
  const found = values.filter(
    (v) =>
      (v.metricName ?? name) === sample &&
      Object.entries(match).every(([label, value]) => String(v.labels[label]) === String(value)),
  );
  if (found.length !== 1) {
    throw new Error(`${found.length} samples of ${sample} match ${JSON.stringify(match)}`);
  }
  return (found[0] as { value: number }).value;
}

/** Polls metric `name` until `accept` holds for its value; fails after 5 s with the last value seen. */
export async function waitForValue(
  registry: Registry,
  name: string,
  accept: (value: number) => boolean,
  match: Match = {},
): Promise<number> {
  return vi.waitFor(
    async () => {
      const value = await sampleValue(registry, name, match);
      if (!accept(value)) throw new Error(`${name}${JSON.stringify(match)} is still ${value}`);
      return value;
    },
    { timeout: 5_000, interval: 2 },
  );
}
