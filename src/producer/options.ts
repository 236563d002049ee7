/**
 * `createProducer` options: validated once by the schema (options-schema.ts), with every problem
 * reported together, and resolved once against the defaults (defaults.ts) into the settings each part
 * of the runtime needs; nothing downstream falls back to a default again. The library never reads
 * `process.env`; the service and the CLI map environment variables onto these options.
 */
import type { BreakerSettings } from '../../machines/breaker.machine.js';
import type { ConnectionSettings } from '../../machines/connection.machine.js';
import type { MessageSettings } from '../../machines/message.machine.js';
import type { SupervisorInput } from '../../machines/supervisor.machine.js';
import type { AmqpConnectOptions, TlsOptions } from '../amqp/ports.js';
import { type Topology, withAlternateExchange } from '../amqp/topology.js';
import { defined } from '../defined.js';
import { FerryError } from '../errors.js';
import type { JournalConfig } from '../journal/journal-config.js';
import { PRODUCER_DEFAULTS as D } from './defaults.js';
import { optionsSchema } from './options-schema.js';
import type { ProducerOptions } from './producer-options.js';
import type { UnroutableSettings } from './unroutable-catcher.js';

export type { ProducerOptions } from './producer-options.js';

/**
 * Options after validation and defaults, shaped for the parts that read them. One name, one meaning:
 * `confirmTimeoutMs` bounds every write's confirm, `closeTimeoutMs` is `close()`'s default wait.
 *
 * @internal
 */
export interface ResolvedOptions {
  /** Seeds every jitter source; drawn at random when not given. */
  readonly seed: number;
  /** What the broker adapter connects with. */
  readonly connect: AmqpConnectOptions;
  /** The connection machine's settings. */
  readonly connection: ConnectionSettings;
  readonly healthCheckExchange: string;
  readonly breaker: BreakerSettings;
  readonly failFastWhenOpen: boolean;
  /** The message machine's settings but the confirm deadline, which the hot path owns. */
  readonly retry: Omit<MessageSettings, 'confirmTimeoutMs'>;
  /** Retrying messages with a live actor at once. */
  readonly maxLiveActors: number;
  /** `null` with `topology.declare: false`: the user owns the topology. */
  readonly topology: Topology | null;
  readonly deadLetterExchange: string;
  /** Catch unroutable messages with an alternate exchange; `null`: publish every message `mandatory`. */
  readonly unroutable: UnroutableSettings | null;
  readonly maxInFlight: number;
  readonly confirmTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly appId: string | undefined;
  readonly timestamp: boolean;
  readonly maxBufferedMessages: number;
  readonly maxBufferedBytes: number;
  readonly bufferTimeoutMs: number;
  readonly journal: JournalConfig;
  readonly closeTimeoutMs: number;
}

type Problems = {
  readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[];
};

/**
 * The schema's verdict on `options`. zod can throw on junk instead of reporting it (its `readonly()`
 * freezes whatever value it was given, and a typed array cannot be frozen): such a value is reported
 * as a problem like any other, never thrown as a TypeError.
 */
function parseOptions(
  options: ProducerOptions,
): ReturnType<typeof optionsSchema.safeParse> | { readonly success: false; readonly error: Problems } {
  try {
    return optionsSchema.safeParse(options);
  } catch (error) {
    const message = `options that cannot be read: ${error instanceof Error ? error.message : String(error)}`;
    return { success: false, error: { issues: [{ path: [], message }] } };
  }
}

/**
 * Validates options and fills in defaults.
 *
 * @internal
 *
 * @throws FerryError `INVALID_OPTIONS` naming every bad field by its path.
 */
export function resolveOptions(options: ProducerOptions = {}): ResolvedOptions {
  const parsed = parseOptions(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
    );
    throw new FerryError('INVALID_OPTIONS', `invalid producer options:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  const o = parsed.data;
  const connection = { ...D.connection, ...defined(o.connection ?? {}) };
  const { maxAttempts: maxReconnectAttempts, ...reconnect } = {
    ...D.connection.reconnect,
    ...defined(o.connection?.reconnect ?? {}),
  };
  const retry = { ...D.retry, ...defined(o.retry ?? {}) };
  const breaker = { ...D.breaker, ...defined(o.breaker ?? {}) };
  const buffer = { ...D.buffer, ...defined(o.buffer ?? {}) };
  const publish = { ...D.publish, ...defined(o.publish ?? {}) };
  const topologyOptions = { ...D.topology, ...defined(o.topology ?? {}) };
  const caught = o.topology?.unroutable;
  const unroutable: UnroutableSettings | null =
    caught === undefined
      ? null
      : {
          ...D.topology.unroutable,
          ...defined(caught),
          alternateExchange: caught.alternateExchange,
          queue: caught.queue,
        };
  const declared = topologyOptions.declare === false ? null : topologyOptions.declare;
  const topology =
    declared === null || unroutable === null ? declared : withAlternateExchange(declared, unroutable);
  const tls: TlsOptions | undefined =
    connection.tls === undefined ? undefined : { rejectUnauthorized: true, ...defined(connection.tls) };
  const urls = o.connection?.urls ?? [connection.url];
  const seed = o.seed ?? Math.floor(Math.random() * 0x100000000);
  const { maxAttempts, parkedDelayMs, maxLiveActors, ...retryBackoff } = retry;
  return {
    seed,
    connect: {
      urls,
      seed,
      heartbeatSeconds: connection.heartbeatSeconds,
      connectionTimeoutMs: connection.timeoutMs,
      clientName: connection.clientName,
      channels: connection.channels,
      ...(connection.lookup === undefined ? {} : { lookup: connection.lookup }),
      ...(tls === undefined ? {} : { tls }),
    },
    connection: {
      reconnect,
      maxReconnectAttempts,
      // The adapter bounds each URL's attempt, then the topology is declared: the machine's bound
      // on one whole attempt covers every URL plus the declaration.
      connectTimeoutMs: connection.timeoutMs * (urls.length + 1),
      healthCheckIntervalMs: connection.healthCheckIntervalMs,
      healthCheckTimeoutMs: connection.healthCheckTimeoutMs,
      disconnectTimeoutMs: connection.disconnectTimeoutMs,
    },
    healthCheckExchange:
      o.connection?.healthCheckExchange ?? topology?.exchanges[0]?.name ?? connection.healthCheckExchange,
    breaker: {
      failureThreshold: breaker.failureThreshold,
      cooldownMs: breaker.cooldownMs,
      failureRate: breaker.failureRate,
    },
    failFastWhenOpen: breaker.failFastWhenOpen,
    retry: { retry: retryBackoff, maxAttempts, parkedRetryDelayMs: parkedDelayMs },
    maxLiveActors,
    topology,
    deadLetterExchange: topologyOptions.deadLetterExchange,
    unroutable,
    maxInFlight: publish.maxInFlight,
    confirmTimeoutMs: publish.confirmTimeoutMs,
    maxMessageBytes: publish.maxMessageBytes,
    appId: publish.appId,
    timestamp: publish.timestamp,
    maxBufferedMessages: buffer.maxMessages,
    maxBufferedBytes: buffer.maxBytes,
    bufferTimeoutMs: buffer.timeoutMs,
    journal: o.journal ?? D.journal,
    closeTimeoutMs: o.closeTimeoutMs ?? D.closeTimeoutMs,
  };
}

/**
 * The supervisor's input with nothing left to its machines' defaults.
 *
 * @internal
 */
export interface CompleteSupervisorInput extends SupervisorInput {
  readonly connection: ConnectionSettings;
  readonly breaker: BreakerSettings;
  readonly message: MessageSettings;
  readonly maxLiveMessages: number;
}

/**
 * The supervisor machine's input: complete settings for each of its machines, so none of their
 * standalone defaults applies. The message machine's own confirm timeout stands down in the runtime
 * (machine-effects.ts); it gets the same value so that its context tells the truth.
 *
 * @internal
 */
export function supervisorInput(settings: ResolvedOptions): CompleteSupervisorInput {
  return {
    seed: settings.seed,
    connection: settings.connection,
    breaker: settings.breaker,
    message: { ...settings.retry, confirmTimeoutMs: settings.confirmTimeoutMs },
    maxLiveMessages: settings.maxLiveActors,
  };
}
