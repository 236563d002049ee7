/**
 * Status routes: `GET /health/live` (the process answers and its journal works: else 503, so that it
 * is restarted), `GET /health/ready` (journal working, connected, breaker not open, not draining: 200,
 * else 503 with the reasons) and `GET /api/ml/metrics/json` (the task layer's
 * status, with its `circuitBreaker` key, as the original service served it).
 */
import type { MlTasks } from '../tasks/ml-tasks.js';
import type { JournalHealth } from './journal-health.js';
import type { Route } from './router.js';

/** Whether the service is shutting down; readiness turns false first. */
export interface Lifecycle {
  readonly draining: boolean;
}

/** The status routes; health is open even when an API token is set. */
export function healthRoutes(tasks: MlTasks, lifecycle: Lifecycle, journal: JournalHealth): Route[] {
  return [
    {
      method: 'GET',
      path: '/health/live',
      open: true,
      handler: () => {
        const failure = journal.failure();
        return failure === null
          ? { status: 200, json: { status: 'ok' } }
          : { status: 503, json: { status: 'journal failed', journal: failure } };
      },
    },
    {
      method: 'GET',
      path: '/health/ready',
      open: true,
      handler: () => {
        const status = tasks.getStatus();
        const reasons: string[] = [];
        const failure = journal.failure();
        if (lifecycle.draining) reasons.push('shutting down');
        if (failure !== null) reasons.push(`journal: ${failure.message}`);
        if (!status.connection.connected) reasons.push(`broker connection is ${status.connection.phase}`);
        if (status.circuitBreaker.isOpen) reasons.push('circuit breaker is open');
        const ready = reasons.length === 0;
        return {
          status: ready ? 200 : 503,
          json: {
            status: ready ? 'ready' : 'not ready',
            reasons,
            connection: status.connection.phase,
            circuitBreaker: status.circuitBreaker.state,
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/ml/metrics/json',
      handler: () => ({ status: 200, json: tasks.getStatus() }),
    },
  ];
}
