/**
 * `ferry serve` (also `npm start`): the HTTP service, configured from environment variables (see
 * src/service/config.ts). It listens at once and connects in the background: with no broker it still
 * accepts tasks into the journal, reports not ready, and delivers them when the broker comes.
 * SIGTERM/SIGINT: readiness false, finish requests, drain, close.
 */
import { Command } from 'commander';
import { redactUrl } from '../errors.js';
import { inspectModeFromEnv, type StatelyInspector, startStatelyInspector } from '../inspector/stately.js';
import { createProducerMetrics } from '../metrics/producer-metrics.js';
import { createProducer } from '../producer/producer.js';
import { formatConfigProblems, loadServiceConfig, type ServiceEnv } from '../service/config.js';
import { livePage } from '../service/live-page/live-page.js';
import { componentLog, jsonLog, type Log } from '../service/log.js';
import { metricsRoute } from '../service/metrics-route.js';
import type { Route } from '../service/router.js';
import { createService, type Service } from '../service/server.js';
import { createMlTasks } from '../tasks/ml-tasks.js';
import { startTelemetry, type Telemetry } from '../tracing/telemetry-sdk.js';

/** Starts the service from `env`; resolves once it listens. Exported for tests and embedding. */
export async function startService(
  env: ServiceEnv,
  log: Log,
  extraRoutes: readonly Route[] = [],
): Promise<Service & { readonly port: number }> {
  const loaded = loadServiceConfig(env);
  if (!loaded.ok) throw new Error(formatConfigProblems(loaded.problems));
  const { config } = loaded;
  // Development only, off unless FERRY_INSPECT is set (docs/operations/live-view.md).
  const inspectMode = inspectModeFromEnv(env.FERRY_INSPECT);
  const inspector: StatelyInspector | null =
    inspectMode === null ? null : await startStatelyInspector({ mode: inspectMode });
  if (inspector !== null) log('warn', 'Stately inspector on (FERRY_INSPECT)', { open: inspector.url });
  const producer = createProducer(config.producer, inspector === null ? {} : { inspect: inspector.inspect });
  const tasks = createMlTasks(producer, { preferredBackends: config.preferredBackends });
  const metrics = createProducerMetrics(producer);
  const live = livePage(producer);
  const service = createService({
    tasks,
    extraRoutes: [metricsRoute(metrics), ...live.routes, ...extraRoutes],
    log,
  });
  const address = await service.listen(config.port, config.host);
  log('info', 'listening', { host: address.address, port: address.port, journal: config.journal.kind });
  // Not awaited: the service takes tasks into the journal while the broker is away.
  const producerLog = componentLog(log, 'producer');
  producer.start().then(
    () => producerLog('info', 'connected', { broker: redactUrl(config.producer.url ?? '') }),
    (error: unknown) =>
      producerLog('error', 'not connected yet; accepting into the journal and retrying', {
        error: error instanceof Error ? error.message : String(error),
      }),
  );
  producer.state$.subscribe((summary) => producerLog('info', 'state', { ...summary }));
  const shutdown = service.shutdown;
  return Object.assign(service, {
    port: address.port,
    shutdown: () => {
      // Open live pages would otherwise hold the server's close up until its force-close timeout.
      live.close();
      return shutdown().finally(() => {
        metrics.stop();
        inspector?.stop();
      });
    },
  });
}

/** The `serve` command. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('Run the HTTP service (PORT, HOST, RABBITMQ_URL, FERRY_JOURNAL, ... from the environment).')
    .action(async () => {
      const log = componentLog(jsonLog(), 'service');
      let service: Service & { port: number };
      let telemetry: Telemetry | null;
      try {
        // Before the service: its spans need the SDK's providers (docs/operations/tracing.md).
        telemetry = await startTelemetry(process.env);
        service = await startService(process.env, log);
      } catch (error) {
        process.stderr.write(`ferry serve: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 2;
        return;
      }
      const stop = (signal: string): void => {
        log('info', 'shutting down', { signal });
        // The SDK last: it exports the spans the producer's close ended.
        service
          .shutdown()
          .then(() => telemetry?.shutdown())
          .then(
            () => log('info', 'stopped'),
            (error: unknown) => {
              log('error', 'shutdown failed', { error: String(error) });
              process.exitCode = 1;
            },
          );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
