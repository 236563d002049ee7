/**
 * The HTTP service: the ML task routes, status routes, and any extra routes the caller adds (for
 * example `GET /metrics`), on one `node:http` server with a graceful shutdown: readiness turns false,
 * the server stops taking connections and finishes its requests, then the producer drains and closes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FerryError } from '../errors.js';
import type { MlTasks } from '../tasks/ml-tasks.js';
import { traceRequests, traceRoute } from '../tracing/http-tracing.js';
import { healthRoutes } from './health-handlers.js';
import { componentLog, type Log, silentLog } from './log.js';
import { createRouter, type Route } from './router.js';
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

/** Builds the service; call `listen()` to serve. */
export function createService(options: ServiceOptions): Service {
  const log = componentLog(options.log ?? silentLog, 'http');
  const state = { draining: false };
  let shuttingDown: Promise<void> | null = null;
  const routes = [
    ...taskRoutes(options.tasks),
    ...healthRoutes(options.tasks, state),
    ...(options.extraRoutes ?? []),
  ];
  const server = createServer(
    traceRequests(
      createRouter(routes, {
        maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
        onRoute: traceRoute,
        onError: (error, request) =>
          log('error', 'request failed', {
            method: request.method,
            url: request.url,
            error: FerryError.from(error).toJSON(),
          }),
      }),
    ),
  );

  const shutdown = async (): Promise<void> => {
    state.draining = true;
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
