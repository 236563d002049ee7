/**
 * `ferry/metrics`: the producer's Prometheus metrics on your prom-client registry. prom-client is
 * loaded when metrics are first created; install it to use this entry point.
 *
 * ```ts
 * import { createProducerMetrics } from 'ferry/metrics';
 * createProducerMetrics(producer, { registry });
 * ```
 *
 * @packageDocumentation
 */
export { CONNECTION_STATE_VALUES } from './connection-state.js';
export {
  createProducerMetrics,
  type ProducerMetrics,
  type ProducerMetricsOptions,
} from './producer-metrics.js';
