/**
 * Counters and histograms whose hot path is a plain array increment. prom-client's own `inc()` and
 * `observe()` build a label object and a hash string per call; these keep numbers in arrays indexed by
 * {@link LabelSlots} slots and build the exposition only when scraped.
 */
import type { Metric } from 'prom-client';
import type { LabelSlots } from './label-slots.js';

/** Label name of the routing-key slot. */
const ROUTING_KEY = 'routing_key';

/** One sample as prom-client's registry formats it. */
interface Sample {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/** What prom-client's registry reads from a metric. */
interface Collected {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  readonly values: Sample[];
}

/** What prom-client's registry reads from a metric it holds: its name, its samples, and a reset. */
interface CollectableMetric {
  readonly name: string;
  get(): Promise<Collected>;
  reset(): void;
}

/**
 * prom-client's `Registry` as a slot metric sees it. Its typings name only prom-client's own metric
 * classes, but the registry keeps any object by `name` and reads it through `get()` and `reset()`
 * (lib/registry.js), which is what this interface says. A `Registry` is one: a method's parameter is
 * compared both ways, and prom-client's `Metric` is one of the types this parameter takes.
 * test/metrics/slot-metrics.test.ts scrapes a real `Registry` holding slot metrics.
 *
 * @internal
 */
export interface MetricRegistry {
  registerMetric(metric: CollectableMetric | Metric): void;
}

/**
 * Where a slot metric's samples come from: fixed label sets ("series"), optionally × routing keys.
 *
 * @internal
 */
export interface SlotShape {
  readonly name: string;
  readonly help: string;
  /** Fixed label sets, one per series; `[{}]` for a metric with no fixed labels. */
  readonly series?: readonly Readonly<Record<string, string>>[];
  /** Routing-key slots; without them every series has the one slot 0. */
  readonly routingKeys?: LabelSlots;
  /** Called at the start of every scrape, to bring values kept elsewhere up to date. */
  readonly collect?: () => void;
}

abstract class SlotMetric<Cell> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  protected readonly series: readonly Readonly<Record<string, string>>[];
  private readonly routingKeys: LabelSlots | null;
  private readonly collect: (() => void) | null;
  /** `cells[series][slot]`, created on first use. */
  protected cells: (Cell | undefined)[][];

  constructor(shape: SlotShape) {
    this.name = shape.name;
    this.help = shape.help;
    this.series = shape.series ?? [{}];
    this.routingKeys = shape.routingKeys ?? null;
    this.collect = shape.collect ?? null;
    this.cells = this.series.map(() => []);
  }

  /** prom-client's registry calls this on every scrape. */
  get(): Promise<Collected> {
    this.collect?.();
    const values: Sample[] = [];
    this.series.forEach((fixed, series) => {
      // Without routing keys the series are known up front: expose them at 0 rather than not at all.
      if (this.routingKeys === null) this.cell(series, 0);
      (this.cells[series] ?? []).forEach((cell, slot) => {
        if (cell === undefined) return;
        const labels =
          this.routingKeys === null ? { ...fixed } : { ...fixed, [ROUTING_KEY]: this.routingKeys.name(slot) };
        this.samples(cell, labels, values);
      });
    });
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  /** Forgets every value (prom-client's `registry.resetMetrics()`). */
  reset(): void {
    this.cells = this.series.map(() => []);
  }

  /** Registers this metric with prom-client's registry (see {@link MetricRegistry}). */
  registerIn(registry: MetricRegistry): void {
    registry.registerMetric(this);
  }

  abstract readonly type: Collected['type'];
  protected abstract samples(cell: Cell, labels: Record<string, string | number>, into: Sample[]): void;
  protected abstract empty(): Cell;

  protected cell(series: number, slot: number): Cell {
    const row = this.cells[series] as (Cell | undefined)[];
    let cell = row[slot];
    if (cell === undefined) {
      cell = this.empty();
      row[slot] = cell;
    }
    return cell;
  }
}

/** A counter with one value per series and slot. */
export class SlotCounter extends SlotMetric<{ value: number }> {
  readonly type = 'counter' as const;

  /** Adds `by` (default 1) to the value of `series` and `slot`. */
  inc(series = 0, slot = 0, by = 1): void {
    this.cell(series, slot).value += by;
  }

  /**
   * Sets an unlabelled counter from a running total kept elsewhere (the producer's status). Never goes
   * down: a total read from a stopped producer's reset child must not look like a counter reset.
   */
  setTotal(total: number): void {
    const cell = this.cell(0, 0);
    if (total > cell.value) cell.value = total;
  }

  protected empty(): { value: number } {
    return { value: 0 };
  }

  protected samples(cell: { value: number }, labels: Record<string, string | number>, into: Sample[]): void {
    into.push({ labels, value: cell.value });
  }
}

interface Buckets {
  /** Observations per bucket (not cumulative); the last one is `+Inf`. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A histogram with one set of buckets per series and slot. */
export class SlotHistogram extends SlotMetric<Buckets> {
  readonly type = 'histogram' as const;
  private readonly bounds: readonly number[];

  constructor(shape: SlotShape & { readonly buckets: readonly number[] }) {
    super(shape);
    this.bounds = [...shape.buckets].sort((a, b) => a - b);
  }

  /** Records `value` for `series` and `slot`. */
  observe(value: number, series = 0, slot = 0): void {
    const buckets = this.cell(series, slot);
    let bucket = 0;
    while (bucket < this.bounds.length && value > (this.bounds[bucket] as number)) bucket += 1;
    buckets.counts[bucket] = (buckets.counts[bucket] ?? 0) + 1;
    buckets.sum += value;
    buckets.count += 1;
  }

  protected empty(): Buckets {
    return { counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  protected samples(cell: Buckets, labels: Record<string, string | number>, into: Sample[]): void {
    let cumulative = 0;
    const bucketName = `${this.name}_bucket`;
    for (let i = 0; i <= this.bounds.length; i += 1) {
      cumulative += cell.counts[i] as number;
      const le = i < this.bounds.length ? (this.bounds[i] as number) : '+Inf';
      into.push({ labels: { ...labels, le }, value: cumulative, metricName: bucketName });
    }
    into.push({ labels, value: cell.sum, metricName: `${this.name}_sum` });
    into.push({ labels, value: cell.count, metricName: `${this.name}_count` });
  }
}
