/**
 * Prometheus metrics of a producer, with prom-client: the `ml_producer_*` names the shipped alert rules
 * and dashboard read, and the ones ferry's design adds. See docs/operations/metrics.md.
 */
import type { Registry } from 'prom-client';
import { promClient } from '../optional-deps.js';
import type { ProducerObserver } from '../producer/observer.js';
import type { ProducerStatus } from '../producer/status.js';
import { CONNECTION_STATE_VALUES } from './connection-state.js';
import { LabelSlots } from './label-slots.js';
import { SlotCounter, SlotHistogram, type SlotShape } from './slot-metrics.js';

/** The part of a producer metrics read: its status on every scrape and its per-message events. */
export interface ObservableProducer {
  status(): ProducerStatus;
  observe(observer: ProducerObserver): () => void;
}

/** Options of {@link createProducerMetrics}. */
export interface ProducerMetricsOptions {
  /** Where to register; a new `Registry` by default, never prom-client's global one. */
  readonly registry?: Registry;
  /** Prefix of every metric name; `ml_producer_` (what the shipped alert rules read) by default. */
  readonly prefix?: string;
  /**
   * Distinct `routing_key` label values kept before further keys are counted as `__other__`; 100 by
   * default. Bounds the number of series when callers route by something unbounded.
   */
  readonly maxRoutingKeys?: number;
}

/** A producer's metrics, ready to be served on `GET /metrics`. */
export interface ProducerMetrics {
  readonly registry: Registry;
  /** The exposition text of the registry (every metric in it, not only the producer's). */
  metrics(): Promise<string>;
  /** The `Content-Type` to serve {@link metrics} with. */
  readonly contentType: string;
  /** Stops observing the producer and removes its metrics from the registry. */
  stop(): void;
}

/** Gauges read from the status on every scrape: suffix, help, value. */
const GAUGES: readonly (readonly [string, string, (status: ProducerStatus) => number])[] = [
  [
    'retry_queue_size',
    'Messages off the healthy path: live retrying-message actors plus the backlog waiting for one.',
    (s) => s.messages.retrying,
  ],
  [
    'circuit_breaker_open',
    'Whether the circuit breaker is open (1) or not (0).',
    (s) => flag(s.circuitBreaker.isOpen),
  ],
  [
    'circuit_breaker_state',
    'Circuit breaker state: 0 closed, 1 open, 2 half-open.',
    (s) => ({ closed: 0, open: 1, halfOpen: 2 })[s.circuitBreaker.state],
  ],
  [
    'connection_state',
    'Connection state: 0 idle/closed, 1 connecting, 2 reconnecting, 3 connected, 4 blocked, 5 failed, 6 closing.',
    (s) => CONNECTION_STATE_VALUES[s.connection.phase],
  ],
  [
    'connection_blocked',
    'Whether the broker blocks the connection (resource alarm): 1 blocked, 0 not.',
    (s) => flag(s.connection.phase === 'blocked'),
  ],
  [
    'healthy',
    'Whether the producer is healthy: running, connected, breaker not open.',
    (s) => flag(s.healthy),
  ],
  ['in_flight_messages', 'Messages written and waiting for their confirm.', (s) => s.messages.inFlight],
  ['buffered_messages', 'Accepted messages waiting for a channel.', (s) => s.messages.buffered],
  ['buffered_bytes', 'Body bytes of the buffered messages.', (s) => s.messages.bufferedBytes],
  [
    'journal_pending_messages',
    'Messages the journal still owns (accepted, not yet settled).',
    (s) => s.messages.journalPending,
  ],
  [
    'parked_messages',
    'Messages whose dead-letter hand-off failed: kept in the journal and retried slowly.',
    (s) => s.messages.parked,
  ],
];

/** Counters kept as running totals in the status: suffix, help, value. */
const STATUS_COUNTERS: readonly (readonly [string, string, (status: ProducerStatus) => number])[] = [
  [
    'health_check_failures_total',
    'Failed or timed-out health checks.',
    (s) => s.connection.healthCheckFailures,
  ],
  ['circuit_breaker_trips_total', 'Times the circuit breaker opened.', (s) => s.circuitBreaker.trips],
  ['reconnects_total', 'Successful connects after the first.', (s) => s.connection.reconnects],
  [
    'dead_lettered_messages_total',
    'Messages handed to the dead-letter exchange.',
    (s) => s.messages.deadLettered,
  ],
];

const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const SIZE_BUCKETS = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];
const OUTCOME_SERIES = [{ outcome: 'confirmed' }, { outcome: 'dead_lettered' }] as const;

/**
 * Creates a producer's Prometheus metrics in `registry` (a new one by default). Gauges are read from
 * `producer.status()` once per scrape; counters and histograms of messages come from the producer's
 * observer hook, which costs the hot path a few array increments per message. The `connection_state`
 * values are {@link CONNECTION_STATE_VALUES} (3 = connected). The full list is in
 * docs/operations/metrics.md.
 */
export function createProducerMetrics(
  producer: ObservableProducer,
  options: ProducerMetricsOptions = {},
): ProducerMetrics {
  const { Gauge, Registry } = promClient();
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'ml_producer_';
  const names: string[] = [];
  let cached: ProducerStatus | null = null;
  // Every collect of one scrape runs in the same synchronous pass: one status() serves them all.
  const status = (): ProducerStatus => {
    if (cached === null) {
      cached = producer.status();
      queueMicrotask(() => {
        cached = null;
      });
    }
    return cached;
  };

  for (const [suffix, help, read] of GAUGES) {
    names.push(prefix + suffix);
    new Gauge({
      name: prefix + suffix,
      help,
      registers: [registry],
      collect() {
        this.set(read(status()));
      },
    });
  }
  for (const [suffix, help, read] of STATUS_COUNTERS) {
    const counter: SlotCounter = new SlotCounter({
      name: prefix + suffix,
      help,
      collect: () => counter.setTotal(read(status())),
    });
    register(counter);
  }

  const routingKeys = new LabelSlots(options.maxRoutingKeys ?? 100);
  type Labels = Pick<SlotShape, 'routingKeys' | 'series'>;
  const counter = (suffix: string, help: string, shape: Labels = {}) =>
    register(new SlotCounter({ name: prefix + suffix, help, ...shape }));
  const histogram = (suffix: string, help: string, buckets: readonly number[], shape: Labels = {}) =>
    register(new SlotHistogram({ name: prefix + suffix, help, buckets, ...shape }));

  const accepted = counter('messages_accepted_total', 'Messages accepted (journaled), by routing key.', {
    routingKeys,
  });
  const sent = counter(
    'tasks_sent_total',
    'Messages that reached their outcome, by routing key and outcome.',
    {
      routingKeys,
      series: OUTCOME_SERIES,
    },
  );
  const retries = counter('retry_attempts_total', 'Publishes of retrying messages.');
  const timeouts = counter('confirm_timeouts_total', 'Publishes with no confirm within the timeout.');
  const nacked = counter('nacked_messages_total', 'Publishes the broker refused (basic.nack).');
  const returned = counter('returned_messages_total', 'Publishes the broker returned as unroutable.');
  const reconnectAttempts = counter('reconnect_attempts_total', 'Connection attempts after the first.');
  const duration = histogram(
    'publish_duration_seconds',
    'Time from acceptance to the outcome (confirmed or dead-lettered), by routing key and outcome.',
    SECONDS_BUCKETS,
    { routingKeys, series: OUTCOME_SERIES },
  );
  const latency = histogram(
    'confirm_latency_seconds',
    'Time from a write to its broker confirm.',
    LATENCY_BUCKETS,
  );
  const size = histogram(
    'message_size_bytes',
    'Body size of accepted messages, by routing key.',
    SIZE_BUCKETS,
    {
      routingKeys,
    },
  );

  let sawFirstAttempt = producer.status().state !== 'idle';
  const unobserve = producer.observe({
    accepted(routingKey, bytes) {
      const slot = routingKeys.slot(routingKey);
      accepted.inc(0, slot);
      size.observe(bytes, 0, slot);
    },
    answered(outcome, latencyMs) {
      if (outcome === 'confirmed') latency.observe(latencyMs / 1000);
      else if (outcome === 'confirm-timeout') timeouts.inc();
      else if (outcome === 'nacked') nacked.inc();
      else if (outcome === 'returned') returned.inc();
    },
    settled(routingKey, outcome, elapsedMs) {
      const slot = routingKeys.slot(routingKey);
      const series = outcome === 'confirmed' ? 0 : 1;
      sent.inc(series, slot);
      // A message recovered from another process's journal may carry that process's clock.
      if (elapsedMs >= 0) duration.observe(elapsedMs / 1000, series, slot);
    },
    retried() {
      retries.inc();
    },
    connecting() {
      if (sawFirstAttempt) reconnectAttempts.inc();
      sawFirstAttempt = true;
    },
  });

  function register<M extends SlotCounter | SlotHistogram>(metric: M): M {
    metric.registerIn(registry);
    names.push(metric.name);
    return metric;
  }

  return {
    registry,
    metrics: () => registry.metrics(),
    contentType: registry.contentType,
    stop() {
      unobserve();
      for (const name of names.splice(0)) registry.removeSingleMetric(name);
    },
  };
}

function flag(value: boolean): number {
  return value ? 1 : 0;
}
