/**
 * The zod schema of `createProducer`'s options: the one validator, so that every problem is reported
 * together with its path (`retry.maxAttempts: …`). It accepts exactly the documented `ProducerOptions`.
 *
 * @internal
 */
import type { LookupFunction } from 'node:net';
import { z } from 'zod';
import { JITTER_STRATEGIES, type JitterStrategy } from '../../machines/backoff.js';
import type { Topology } from '../amqp/topology.js';
import { postgresJournalSchema } from '../journal/postgres-options.js';
import type { ProducerOptions } from './producer-options.js';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

const backoffShape = {
  initialDelayMs: positiveInt,
  maxDelayMs: positiveInt,
  multiplier: z.number().min(1),
  jitter: z.enum(JITTER_STRATEGIES as [JitterStrategy, ...JitterStrategy[]]),
  jitterFactor: z.number().min(0).max(1),
};

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
      walTruncateBytes: positiveInt.optional(),
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

/** The most confirm channels the `channels` option opens on one connection. */
const MAX_CHANNELS = 32;

const connectionSchema = z
  .object({
    url: amqpUrl,
    urls: z.array(amqpUrl).min(1).readonly(),
    heartbeatSeconds: nonNegativeInt,
    timeoutMs: positiveInt,
    tls: tlsSchema,
    clientName: z.string().min(1),
    channels: positiveInt.max(MAX_CHANNELS),
    lookup: z.custom<LookupFunction>((value) => typeof value === 'function', {
      message: 'must be a dns.lookup-compatible function',
    }),
    reconnect: z
      .object({ ...backoffShape, maxAttempts: positiveInt })
      .partial()
      .strict(),
    healthCheckIntervalMs: positiveInt,
    healthCheckExchange: z.string().min(1),
  })
  .partial()
  .strict()
  .refine((value) => !(value.url !== undefined && value.urls !== undefined), {
    message: 'give either url or urls, not both',
  });

const retrySchema = z
  .object({
    ...backoffShape,
    maxAttempts: positiveInt,
    parkedDelayMs: positiveInt,
    maxLiveActors: positiveInt,
  })
  .partial()
  .strict();

const breakerSchema = z
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
    failFastWhenOpen: z.boolean(),
  })
  .partial()
  .strict();

const bufferSchema = z
  .object({ maxMessages: positiveInt, maxBytes: positiveInt, timeoutMs: nonNegativeInt })
  .partial()
  .strict();

const publishSchema = z
  .object({
    maxInFlight: positiveInt,
    confirmTimeoutMs: positiveInt,
    maxMessageBytes: positiveInt,
    appId: z.string().min(1).max(255),
    timestamp: z.boolean(),
  })
  .partial()
  .strict();

const topologySchema = z
  .object({
    declare: z.union([
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
    deadLetterExchange: z.string().min(1),
    unroutable: z
      .object({
        alternateExchange: z.string().min(1).max(255),
        queue: z.string().min(1).max(255),
        probeTimeoutMs: positiveInt.optional(),
        reprobeIntervalMs: positiveInt.optional(),
      })
      .strict(),
  })
  .partial()
  .strict();

/** The one validator of `ProducerOptions`. */
export const optionsSchema = z
  .object({
    connection: connectionSchema,
    retry: retrySchema,
    breaker: breakerSchema,
    buffer: bufferSchema,
    publish: publishSchema,
    topology: topologySchema,
    journal: journalSchema,
    closeTimeoutMs: nonNegativeInt,
    seed: z.number().int(),
  })
  .partial()
  .strict();

/**
 * The schema accepts exactly the documented options: each side must be assignable to the other, and
 * both must name the same fields at every depth (assignability alone lets an optional field exist on
 * one side only), so a field added, renamed or retyped on one side only fails to compile here.
 */
type SchemaInput = z.input<typeof optionsSchema>;
type Agrees<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Leaf =
  | string
  | number
  | boolean
  | bigint
  | symbol
  | null
  | undefined
  | ((...args: never) => unknown)
  | Buffer
  | readonly unknown[];
/** Every field's dotted path, down through nested groups (`connection.reconnect.maxAttempts`). */
type FieldPaths<T> = T extends Leaf
  ? never
  : { [K in keyof T & string]-?: K | `${K}.${FieldPaths<Exclude<T[K], undefined>>}` }[keyof T & string];
const schemaMatchesOptions: Agrees<ProducerOptions, SchemaInput> = true;
const fieldsMatch: Agrees<FieldPaths<ProducerOptions>, FieldPaths<SchemaInput>> = true;
void schemaMatchesOptions;
void fieldsMatch;
