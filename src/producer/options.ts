/**
 * `createProducer` options: validated once, with every problem reported together, and resolved into
 * the settings each part of the runtime needs. The library never reads `process.env`; the service and
 * the CLI map environment variables onto these options.
 */
import type { LookupFunction } from 'node:net';
import { z } from 'zod';
import {
  DEFAULT_RECONNECT_BACKOFF as DEFAULT_RECONNECT,
  DEFAULT_RETRY_BACKOFF as DEFAULT_RETRY,
  JITTER_STRATEGIES,
  type JitterStrategy,
} from '../../machines/backoff.js';
import type { SupervisorInput } from '../../machines/supervisor.machine.js';
import type { AmqpConnectOptions, TlsOptions } from '../amqp/ports.js';
import {
  DEAD_LETTER_EXCHANGE,
  DEFAULT_TOPOLOGY,
  type Topology,
  withAlternateExchange,
} from '../amqp/topology.js';
import { defined } from '../defined.js';
import { FerryError } from '../errors.js';
import type { JournalConfig } from '../journal/journal-config.js';
import { postgresJournalSchema } from '../journal/postgres-options.js';
import type { ProducerOptions } from './producer-options.js';
import { PROBE_TIMEOUT_MS, REPROBE_INTERVAL_MS, type UnroutableSettings } from './unroutable-catcher.js';

const positiveInt = z.number().int().positive();
/** The most confirm channels the `channels` option opens on one connection. */
const MAX_CHANNELS = 32;
const nonNegativeInt = z.number().int().nonnegative();

const backoffSchema = z
  .object({
    initialDelayMs: positiveInt,
    maxDelayMs: positiveInt,
    multiplier: z.number().min(1),
    jitter: z.enum(JITTER_STRATEGIES as [JitterStrategy, ...JitterStrategy[]]),
    jitterFactor: z.number().min(0).max(1),
  })
  .partial()
  .strict();

const tlsSchema = z
  .object({
    ca: z.union([z.string(), z.instanceof(Buffer)]),
    cert: z.union([z.string(), z.instanceof(Buffer)]),
    key: z.union([z.string(), z.instanceof(Buffer)]),
    passphrase: z.string(),
    rejectUnauthorized: z.boolean(),
    servername: z.string(),
  })
  .partial()
  .strict();

const amqpUrl = z
  .string()
  .refine((value) => /^amqps?:\/\/[^\s]+$/.test(value), { message: 'must be an amqp:// or amqps:// URL' });

const batchingSchema = {
  groupCommitMs: nonNegativeInt.optional(),
  maxBatch: positiveInt.optional(),
};

/** Which journal backend; see src/journal/create-journal.ts. */
const journalSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('memory') }).strict(),
  z
    .object({
      kind: z.literal('sqlite'),
      path: z.string().min(1),
      durability: z.enum(['process', 'power']).optional(),
      ...batchingSchema,
    })
    .strict(),
  z
    .object({
      kind: z.literal('redis'),
      url: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL'),
      keyPrefix: z.string().min(1).optional(),
      instanceId: z.string().min(1).optional(),
      leaseMs: positiveInt.optional(),
      ...batchingSchema,
    })
    .strict(),
  postgresJournalSchema,
]);

const optionsSchema = z
  .object({
    url: amqpUrl,
    urls: z.array(amqpUrl).min(1).readonly(),
    heartbeatSeconds: nonNegativeInt,
    connectionTimeoutMs: positiveInt,
    tls: tlsSchema,
    clientName: z.string().min(1),
    lookup: z.custom<LookupFunction>((value) => typeof value === 'function', {
      message: 'must be a dns.lookup-compatible function',
    }),
    topology: z.union([
      z.literal(false),
      z.custom<Topology>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          ['exchanges', 'queues', 'bindings'].every((key) =>
            Array.isArray((value as Record<string, unknown>)[key]),
          ),
        {
          message:
            'must be false or a topology with exchanges, queues and bindings arrays (see buildTopology)',
        },
      ),
    ]),
    healthCheckExchange: z.string().min(1),
    deadLetterExchange: z.string().min(1),
    reconnect: backoffSchema,
    maxReconnectAttempts: positiveInt,
    healthCheckIntervalMs: positiveInt,
    retry: backoffSchema,
    maxAttempts: positiveInt,
    confirmTimeoutMs: positiveInt,
    parkedRetryDelayMs: positiveInt,
    breaker: z
      .object({
        failureThreshold: positiveInt,
        cooldownMs: positiveInt,
        failureRate: z.union([
          z.null(),
          z
            .object({
              windowMs: positiveInt,
              buckets: positiveInt,
              minimumVolume: positiveInt,
              threshold: z.number().gt(0).max(1),
            })
            .strict(),
        ]),
      })
      .partial()
      .strict(),
    failFastWhenOpen: z.boolean(),
    maxInFlight: positiveInt,
    channels: positiveInt.max(MAX_CHANNELS),
    maxBufferedMessages: positiveInt,
    maxBufferedBytes: positiveInt,
    bufferTimeoutMs: nonNegativeInt,
    maxMessageBytes: positiveInt,
    maxLiveMessageActors: positiveInt,
    closeTimeoutMs: nonNegativeInt,
    seed: z.number().int(),
    /**
     * AMQP `app_id` of every message (none by default: Celery and ferry need none). Worth setting when
     * several services publish to one exchange and operators want to tell their messages apart.
     */
    appId: z.string().min(1).max(255),
    /**
     * Set AMQP `timestamp` (acceptance time, whole seconds) on every message; off by default: ferry's
     * dead letters carry their own times in headers, and every byte of properties is work for the
     * broker (docs/benchmarks.md measured a 1 KiB workload slow down by a tenth with 20 bytes more).
     */
    timestamp: z.boolean(),
    /** Where accepted messages are journaled; `{ kind: 'memory' }` (nothing survives a crash) by default. */
    journal: journalSchema,
    /**
     * Catch unroutable messages with an alternate exchange instead of publishing every message
     * `mandatory`, which RabbitMQ charges for on every message. A broker policy must name
     * `alternateExchange` on the exchanges ferry publishes to; ferry declares the alternate exchange and
     * `queue` with its topology, consumes `queue`, and leaves `mandatory` off for an exchange only once a
     * probe proved the link on the current connection. See docs/reliability.md.
     */
    unroutable: z
      .object({
        alternateExchange: z.string().min(1).max(255),
        queue: z.string().min(1).max(255),
        /** How long a probe may take to come out of `queue` (5,000 ms by default). */
        probeTimeoutMs: positiveInt.optional(),
        /**
         * How often a proof is renewed, and how long an unproven exchange waits for its next probe
         * (60,000 ms by default): a policy removed while ferry runs is noticed within this.
         */
        reprobeIntervalMs: positiveInt.optional(),
      })
      .strict(),
  })
  .partial()
  .strict()
  .refine((value) => !(value.url !== undefined && value.urls !== undefined), {
    message: 'give either url or urls, not both',
  });

export type { ProducerOptions } from './producer-options.js';

/**
 * The schema accepts exactly the documented options: each side must be assignable to the other, so a
 * field added, renamed or retyped on one side only fails to compile here.
 */
type SchemaInput = z.input<typeof optionsSchema>;
type Agrees<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesOptions: Agrees<ProducerOptions, SchemaInput> = true;
void schemaMatchesOptions;

/**
 * Options after validation and defaults.
 *
 * @internal
 */
export interface ResolvedOptions {
  readonly connect: AmqpConnectOptions;
  readonly topology: Topology | null;
  readonly healthCheckExchange: string;
  readonly deadLetterExchange: string;
  readonly supervisor: SupervisorInput;
  readonly failFastWhenOpen: boolean;
  readonly maxInFlight: number;
  readonly maxBufferedMessages: number;
  readonly maxBufferedBytes: number;
  readonly bufferTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly confirmTimeoutMs: number;
  readonly closeTimeoutMs: number;
  readonly appId: string | undefined;
  readonly timestamp: boolean;
  readonly journal: JournalConfig;
  /** Catch unroutable messages with an alternate exchange; `null`: publish every message `mandatory`. */
  readonly unroutable: UnroutableSettings | null;
}

/** The broker ferry talks to when none is configured: the local one, as in the quick start. */
export const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672';

/**
 * The schema's verdict on `options`. zod can throw on junk instead of reporting it (its `readonly()`
 * freezes whatever value it was given, and a typed array cannot be frozen): such a value is reported
 * as a problem like any other, never thrown as a TypeError.
 */
function parseOptions(options: ProducerOptions):
  | ReturnType<typeof optionsSchema.safeParse>
  | {
      readonly success: false;
      readonly error: {
        readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[];
      };
    } {
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
 * @throws FerryError `INVALID_OPTIONS` naming every bad field.
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
  const unroutable =
    o.unroutable === undefined
      ? null
      : {
          alternateExchange: o.unroutable.alternateExchange,
          queue: o.unroutable.queue,
          probeTimeoutMs: o.unroutable.probeTimeoutMs ?? PROBE_TIMEOUT_MS,
          reprobeIntervalMs: o.unroutable.reprobeIntervalMs ?? REPROBE_INTERVAL_MS,
        };
  const declared = o.topology === false ? null : (o.topology ?? DEFAULT_TOPOLOGY);
  const topology =
    declared === null || unroutable === null ? declared : withAlternateExchange(declared, unroutable);
  const confirmTimeoutMs = o.confirmTimeoutMs ?? 5_000;
  const tls: TlsOptions | undefined =
    o.tls === undefined ? undefined : { rejectUnauthorized: true, ...defined(o.tls) };
  const seed = o.seed ?? Math.floor(Math.random() * 0x100000000);
  return {
    connect: {
      urls: o.urls ?? [o.url ?? DEFAULT_URL],
      seed,
      heartbeatSeconds: o.heartbeatSeconds ?? 60,
      connectionTimeoutMs: o.connectionTimeoutMs ?? 10_000,
      clientName: o.clientName ?? 'ferry',
      channels: o.channels ?? 1,
      ...(o.lookup === undefined ? {} : { lookup: o.lookup }),
      ...(tls === undefined ? {} : { tls }),
    },
    topology,
    healthCheckExchange: o.healthCheckExchange ?? topology?.exchanges[0]?.name ?? 'amq.topic',
    deadLetterExchange: o.deadLetterExchange ?? DEAD_LETTER_EXCHANGE,
    supervisor: {
      seed,
      connection: defined({
        maxReconnectAttempts: o.maxReconnectAttempts,
        // The adapter bounds each URL's attempt, then the topology is declared: the machine's bound
        // on one whole attempt covers every URL plus the declaration.
        connectTimeoutMs: (o.connectionTimeoutMs ?? 10_000) * ((o.urls?.length ?? 1) + 1),
        healthCheckIntervalMs: o.healthCheckIntervalMs,
        reconnect: o.reconnect === undefined ? undefined : { ...DEFAULT_RECONNECT, ...defined(o.reconnect) },
      }),
      breaker: defined({
        failureThreshold: o.breaker?.failureThreshold,
        cooldownMs: o.breaker?.cooldownMs,
        failureRate: o.breaker?.failureRate,
      }),
      message: defined({
        maxAttempts: o.maxAttempts,
        confirmTimeoutMs,
        parkedRetryDelayMs: o.parkedRetryDelayMs,
        retry: o.retry === undefined ? undefined : { ...DEFAULT_RETRY, ...defined(o.retry) },
      }),
      maxLiveMessages: o.maxLiveMessageActors ?? 256,
    },
    failFastWhenOpen: o.failFastWhenOpen ?? false,
    maxInFlight: o.maxInFlight ?? 10_000,
    maxBufferedMessages: o.maxBufferedMessages ?? 100_000,
    maxBufferedBytes: o.maxBufferedBytes ?? 128 * 1024 * 1024,
    bufferTimeoutMs: o.bufferTimeoutMs ?? 30_000,
    maxMessageBytes: o.maxMessageBytes ?? 16 * 1024 * 1024,
    confirmTimeoutMs,
    closeTimeoutMs: o.closeTimeoutMs ?? 10_000,
    appId: o.appId,
    timestamp: o.timestamp ?? false,
    journal: (o.journal ?? { kind: 'memory' }) as JournalConfig,
    unroutable,
  };
}
