/**
 * The HTTP service: the ML task routes, status routes, and any extra routes the caller adds (for
 * example `GET /metrics`), on one `node:http` server with a graceful shutdown: new tasks and readiness
 * answer 503 at once, and for `shutdownDelayMs` the listener stays open so that load balancers see
 * it; then the server stops taking connections and finishes its requests, and the producer drains
 * and closes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FerryError } from '../errors.js';
import type { MlTasks } from '../tasks/ml-tasks.js';
import { traceRequests, traceRoute } from '../tracing/http-tracing.js';
import { bearerTokenCheck } from './api-token.js';
import { healthRoutes } from './health-handlers.js';
import { JournalHealth } from './journal-health.js';
import { componentLog, type Log, silentLog } from './log.js';
import { answerClientError, createRouter, errorReply, type Reply, type Route } from './router.js';
import { taskRoutes } from './task-handlers.js';

/** How long open connections may keep the server from closing after shutdown begins. */
const FORCE_CLOSE_MS = 5_000;

/** Options of {@link createService}. */
export interface ServiceOptions {
  /** The task layer; its producer is closed by {@link Service.shutdown}. */
  readonly tasks: MlTasks;
  /** Routes served next to the built-in ones (first match wins, so these cannot shadow them). */
  readonly extraRoutes?: readonly Route[];
  /** The largest request body, in bytes; 1 MiB by default. */
  readonly maxBodyBytes?: number;
  /** How long the producer may take to drain on shutdown; its `closeTimeoutMs` by default. */
  readonly drainTimeoutMs?: number;
  /** How long readiness answers 503 before the listener closes on shutdown, ms; 0 by default. */
  readonly shutdownDelayMs?: number;
  /**
   * A shared secret: every route not marked `open` answers 401 without `Authorization: Bearer <token>`.
   * None by default.
   */
  readonly apiToken?: string;
  /** The journal's health; one reading the producer's status by default. */
  readonly journalHealth?: JournalHealth;
  readonly log?: Log;
}

/** A running (or ready to run) service. */
export interface Service {
  readonly server: Server;
  /** False once shutdown has begun: `/health/ready` answers 503. */
  readonly draining: boolean;
  /** Starts listening; resolves with the bound address (port 0 picks a free one). */
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Readiness false, stop accepting connections, finish requests, drain and close the producer. */
  shutdown(): Promise<void>;
}

const UNAUTHORIZED: Reply = {
  status: 401,
  json: {
    error: { code: 'UNAUTHORIZED', message: 'this route needs the API token: Authorization: Bearer <token>' },
  },
  headers: { 'www-authenticate': 'Bearer' },
};

/** Builds the service; call `listen()` to serve. */
export function createService(options: ServiceOptions): Service {
  const log = componentLog(options.log ?? silentLog, 'http');
  const state = { draining: false };
  let shuttingDown: Promise<void> | null = null;
  const journal = options.journalHealth ?? new JournalHealth(() => options.tasks.producer.status().journal);
  const routes = [
    ...taskRoutes(options.tasks, journal),
    ...healthRoutes(options.tasks, state, journal),
    ...(options.extraRoutes ?? []),
  ];
  const authorized = options.apiToken === undefined ? null : bearerTokenCheck(options.apiToken);
  const server = createServer(
    traceRequests(
      createRouter(routes, {
        maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
        onRoute: traceRoute,
        guard: (request, route) => {
          if (route.open !== true && authorized !== null && !authorized(request)) return UNAUTHORIZED;
          // Nothing changes state once shutdown began: a client retries elsewhere at once.
          if (state.draining && route.method !== 'GET') {
            return errorReply(
              503,
              'SHUTTING_DOWN',
              'the service is shutting down; send it to another instance',
            );
          }
          return null;
        },
        onError: (error, request) =>
          log('error', 'request failed', {
            method: request.method,
            // The path only: a query string may carry what a log must not.
            path: (request.url ?? '/').split('?')[0],
            error: FerryError.from(error).toJSON(),
          }),
      }),
    ),
  );
  server.on('clientError', answerClientError);

  const shutdown = async (): Promise<void> => {
    state.draining = true;
    // Readiness answers 503 while the listener is still open, so that load balancers take it out.
    const window = options.shutdownDelayMs ?? 0;
    if (window > 0) await new Promise((resolve) => setTimeout(resolve, window));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // A client holding a keep-alive connection open must not hold up the shutdown for long.
    const force = setTimeout(() => server.closeAllConnections(), FORCE_CLOSE_MS);
    await closed;
    clearTimeout(force);
    await options.tasks.producer.close(
      options.drainTimeoutMs === undefined ? {} : { timeoutMs: options.drainTimeoutMs },
    );
  };

  return {
    server,
    get draining() {
      return state.draining;
    },
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    shutdown: () => {
      shuttingDown ??= shutdown();
      return shuttingDown;
    },
  };
}
