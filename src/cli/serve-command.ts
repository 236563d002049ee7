/**
 * `ferry serve` (also `npm start`): the HTTP service, configured from environment variables (see
 * src/service/config.ts). It opens its journal first — a journal that cannot open (locked by another
 * process, unwritable, corrupt) is a start-up failure: one line on stderr, exit 1 — then listens and
 * connects in the background: with no broker it still accepts tasks into the journal, reports not
 * ready, and delivers them when the broker comes.
 * SIGTERM/SIGINT: new tasks and readiness 503 at once, the listener closes after
 * `FERRY_SHUTDOWN_DELAY_MS`, requests finish, the producer drains, and the log says how many tasks
 * stay in the journal.
 */
import { Command } from 'commander';
import { FerryError } from '../errors.js';
import { inspectModeFromEnv, type StatelyInspector, startStatelyInspector } from '../inspector/stately.js';
import { createJournal } from '../journal/create-journal.js';
import { logProducerEvents } from '../logging/operations-log.js';
import { createProducerMetrics } from '../metrics/producer-metrics.js';
import { PRODUCER_DEFAULTS } from '../producer/defaults.js';
import { createProducer } from '../producer/producer.js';
import { isLoopback } from '../service/api-token.js';
import {
  formatConfigProblems,
  KNOWN_VARIABLES,
  loadServiceConfig,
  type ServiceEnv,
} from '../service/config.js';
import { connectionReason } from '../service/connection-reason.js';
import { JournalHealth } from '../service/journal-health.js';
import { journalBytesMetric } from '../service/journal-metric.js';
import { livePage } from '../service/live-page/live-page.js';
import { componentLog, jsonLog, type Log } from '../service/log.js';
import { metricsRoute } from '../service/metrics-route.js';
import type { Route } from '../service/router.js';
import { createService, type Service } from '../service/server.js';
import { unknownVariables } from '../service/unknown-variables.js';
import { createMlTasks } from '../tasks/ml-tasks.js';
import { startTelemetry, type Telemetry } from '../tracing/telemetry-sdk.js';

/** A started service: its port, and how many tasks its journal holds (after shutdown: left in it). */
export type RunningService = Service & { readonly port: number; journalPending(): number };

/** An error as a log line shows it: its code, when it has one, and its message. */
function describeError(error: unknown): { code?: string; message: string } {
  const failure = FerryError.from(error);
  const code = (error as { code?: unknown }).code;
  return {
    ...(typeof code === 'string' ? { code } : failure.code === 'UNKNOWN' ? {} : { code: failure.code }),
    message: error instanceof Error ? error.message : String(error),
  };
}

/** Why the service did not start: the message says what to do; `exitCode` is the process's. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

/**
 * Starts the service from `env`; resolves once it listens. Exported for tests and embedding.
 *
 * @throws StartupError for a bad configuration (exit 2) or a journal that cannot open (exit 1).
 */
export async function startService(
  env: ServiceEnv,
  log: Log,
  extraRoutes: readonly Route[] = [],
): Promise<RunningService> {
  const loaded = loadServiceConfig(env);
  if (!loaded.ok) throw new StartupError(formatConfigProblems(loaded.problems), 2);
  const { config } = loaded;
  for (const { name, closest } of unknownVariables(env, KNOWN_VARIABLES)) {
    log('warn', `unknown variable ${name} is ignored; did you mean ${closest}?`, { variable: name, closest });
  }
  const journalLog = componentLog(log, 'journal');
  let health: JournalHealth | null = null;
  const journal = createJournal(config.journal, (error) => {
    health?.failed(error);
    journalLog('error', 'a journal write failed', { error: describeError(error) });
  });
  try {
    // Opened before anything listens: a service that cannot keep what it accepts must not accept.
    await journal.open();
  } catch (error) {
    await journal.close().catch(() => undefined);
    throw new StartupError(`the journal cannot open: ${describeError(error).message}`, 1);
  }
  if (config.http.apiToken === undefined && !isLoopback(config.host)) {
    log(
      'warn',
      'listening on a non-loopback address without FERRY_API_TOKEN: anyone who reaches it can enqueue tasks',
      {
        host: config.host,
      },
    );
  }
  // Development only, off unless FERRY_INSPECT is set (docs/operations/live-view.md).
  const inspectMode = inspectModeFromEnv(env.FERRY_INSPECT);
  const inspector: StatelyInspector | null =
    inspectMode === null ? null : await startStatelyInspector({ mode: inspectMode });
  if (inspector !== null) log('warn', 'Stately inspector on (FERRY_INSPECT)', { open: inspector.url });
  const producer = createProducer(config.producer, {
    journal,
    ...(inspector === null ? {} : { inspect: inspector.inspect }),
  });
  health = new JournalHealth(() => producer.status().journal);
  const tasks = createMlTasks(producer, { preferredBackends: config.preferredBackends });
  const metrics = createProducerMetrics(producer);
  journalBytesMetric(config.journal, metrics.registry);
  const live = livePage(producer);
  const open = config.http.openMetrics;
  const service = createService({
    tasks,
    extraRoutes: [
      { ...metricsRoute(metrics), open },
      ...live.routes.map((route) => ({ ...route, open })),
      ...extraRoutes,
    ],
    shutdownDelayMs: config.http.shutdownDelayMs,
    journalHealth: health,
    ...(config.http.apiToken === undefined ? {} : { apiToken: config.http.apiToken }),
    log,
  });
  const address = await service.listen(config.port, config.host).catch(async (error: unknown) => {
    await producer.close({ timeoutMs: 0 });
    throw new StartupError(
      `cannot listen on ${config.host}:${config.port}: ${describeError(error).message}`,
      1,
    );
  });
  log('info', 'listening', {
    host: address.address,
    port: address.port,
    journal: config.journal.kind,
    journalPending: journal.pendingCount(),
    auth: config.http.apiToken === undefined ? 'none' : 'bearer token',
  });
  const producerLog = componentLog(log, 'producer');
  const operations = logProducerEvents(producer.events$, {
    log: producerLog,
    deadLetterExchange:
      config.producer.topology?.deadLetterExchange ?? PRODUCER_DEFAULTS.topology.deadLetterExchange,
  });
  // Not awaited: the service takes tasks into the journal while the broker is away.
  producer.start().then(
    () => producerLog('info', 'connected', { broker: producer.status().connection.endpoint }),
    (error: unknown) =>
      producerLog('error', 'not connected yet; accepting into the journal and retrying', {
        error: describeError(error),
      }),
  );
  // The endpoint names the node ferry is on now: with several URLs a reconnect may move it. A
  // connection that is not up says why, in words, on the same line. Written when the connection, the
  // breaker or the lifecycle changes, not with every change of the retrying counts.
  let lastState = '';
  producer.state$.subscribe((summary) => {
    const key = `${summary.state}/${summary.connection}/${summary.circuitBreaker}/${summary.sending}`;
    if (key === lastState) return;
    lastState = key;
    const { endpoint, lastError } = producer.status().connection;
    const failure = summary.connection === 'connected' ? null : lastError;
    producerLog(
      failure === null ? 'info' : 'warn',
      'state',
      failure === null
        ? { ...summary, broker: endpoint }
        : { ...summary, broker: endpoint, failure: connectionReason(failure) },
    );
  });
  const shutdown = service.shutdown;
  return Object.assign(service, {
    port: address.port,
    journalPending: () => journal.pendingCount(),
    shutdown: () => {
      // Open live pages would otherwise hold the server's close up until its force-close timeout.
      live.close();
      return shutdown().finally(() => {
        operations.stop();
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
      let service: RunningService;
      let telemetry: Telemetry | null;
      try {
        // Before the service: its spans need the SDK's providers (docs/operations/tracing.md).
        telemetry = await startTelemetry(process.env);
        service = await startService(process.env, log);
      } catch (error) {
        process.stderr.write(`ferry serve: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = error instanceof StartupError ? error.exitCode : 1;
        return;
      }
      const stop = (signal: string): void => {
        log('info', 'shutting down', { signal });
        // The SDK last: it exports the spans the producer's close ended.
        service
          .shutdown()
          .then(() => telemetry?.shutdown())
          .then(
            () => log('info', 'stopped', { journalPending: service.journalPending() }),
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
