/**
 * `GET /metrics`: the producer's metrics in Prometheus' text format, for the service's scraper.
 */
import type { ProducerMetrics } from '../metrics/producer-metrics.js';
import type { Route } from './router.js';

/** The route that serves `metrics` on `GET /metrics`. */
export function metricsRoute(metrics: ProducerMetrics): Route {
  return {
    method: 'GET',
    path: '/metrics',
    handler: async () => ({ status: 200, text: await metrics.metrics(), contentType: metrics.contentType }),
  };
}
