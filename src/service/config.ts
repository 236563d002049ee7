/**
 * The service's configuration from environment variables: the original service's names, validated at
 * start-up with one report listing every bad value, and mapped onto producer options.
 *
 * An empty variable counts as unset (compose files often write `NAME=`). Secrets are never echoed: the
 * report names the variable and what is wrong, not the value.
 */

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defined } from '../defined.js';
import { DEFAULT_JOURNAL_SPEC, type JournalConfig, parseJournalSpec } from '../journal/create-journal.js';
import { DEFAULT_URL } from '../producer/defaults.js';
import type { ProducerOptions } from '../producer/options.js';
import { mlProducerOptions } from '../tasks/ml-producer-options.js';
import type { PreferredBackends } from '../tasks/task-types.js';
import { type HttpAccess, httpAccess, httpAccessEnv } from './http-access-config.js';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
const backend = z.enum(['api', 'local'], { message: 'must be api or local' });
const flag = z.stringbool({ error: 'must be true or false (also 1/0, yes/no, on/off)' });
/** A file read at start-up, so that an unreadable path is reported with everything else. */
const file = z.string().transform((name, ctx) => {
  try {
    return readFileSync(name);
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      message: `cannot read ${name} (${(error as NodeJS.ErrnoException).code})`,
    });
    return z.NEVER;
  }
});
const journalSpec = z.string().transform((spec, ctx): JournalConfig => {
  try {
    return parseJournalSpec(spec);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const amqpUrl = z.string().regex(/^amqps?:\/\/\S+$/, 'must be an amqp:// or amqps:// URL');

const envSchema = z.object({
  RABBITMQ_URL: amqpUrl.optional(),
  /** Brokers to fail over between, comma-separated, tried in turn as the `urls` option's are. */
  RABBITMQ_URLS: z
    .string()
    .transform((list) => list.split(',').map((url) => url.trim()))
    .pipe(z.array(amqpUrl).min(1))
    .optional(),

  /** Seconds. */
  RABBITMQ_HEARTBEAT: int(0).optional(),
  /** Milliseconds. */
  RABBITMQ_CONNECTION_TIMEOUT: int(1).optional(),
  /** Retries after the first publish: a message is published at most this many times plus one. */
  ML_MAX_MESSAGE_RETRIES: int(0).default(3),
  /** Milliseconds. */
  ML_MESSAGE_RETRY_BASE_DELAY: int(1).optional(),
  /** Milliseconds. */
  ML_MESSAGE_RETRY_MAX_DELAY: int(1).optional(),
  ML_CIRCUIT_BREAKER_THRESHOLD: int(1).optional(),
  /** Milliseconds. */
  ML_CIRCUIT_BREAKER_COOLDOWN: int(1).optional(),
  RABBITMQ_USE_SSL: flag.default(false),
  RABBITMQ_SSL_CACERT: file.optional(),
  RABBITMQ_SSL_CERTFILE: file.optional(),
  RABBITMQ_SSL_KEYFILE: file.optional(),
  RABBITMQ_VERIFY_PEER: flag.default(true),
  PREFERRED_LLM_BACKEND: backend.default('api'),
  PREFERRED_STT: backend.default('api'),
  PREFERRED_EMBEDDING_BACKEND: backend.default('api'),
  PORT: int(0, 65_535).default(3001),
  HOST: z.string().min(1).default('127.0.0.1'),
  FERRY_JOURNAL: journalSpec.prefault(DEFAULT_JOURNAL_SPEC),
  /**
   * The alternate exchange a broker policy names on the task exchange; ferry declares it and a queue of
   * the same name, and publishes without `mandatory` where it proved the link (`topology.unroutable` option).
   */
  FERRY_ALTERNATE_EXCHANGE: z.string().min(1).max(255).optional(),
  /** Confirm channels on the connection, spread by routing key (the `channels` option); 1 by default. */
  FERRY_CHANNELS: int(1, 32).optional(),
  ...httpAccessEnv,
});

/** Variables read outside this schema (by `ferry serve` itself). */
const READ_ELSEWHERE = ['FERRY_INSPECT'] as const;

/** Every environment variable the service reads. */
export const KNOWN_VARIABLES: readonly string[] = [...Object.keys(envSchema.shape), ...READ_ELSEWHERE];

/** The variables the service reads, as `process.env` holds them. */
export type ServiceEnv = Readonly<Record<string, string | undefined>>;

/** Everything `ferry serve` needs, validated. */
export interface ServiceConfig {
  readonly port: number;
  readonly host: string;
  readonly journal: JournalConfig;
  readonly producer: ProducerOptions;
  readonly preferredBackends: PreferredBackends;
  /** Who may call the service, and how it shuts down. */
  readonly http: HttpAccess;
}

/** The outcome of {@link loadServiceConfig}: the config, or every problem found. */
export type ConfigResult =
  | { readonly ok: true; readonly config: ServiceConfig }
  | { readonly ok: false; readonly problems: readonly string[] };

const TLS_FILES = [
  ['RABBITMQ_SSL_CACERT', 'ca'],
  ['RABBITMQ_SSL_CERTFILE', 'cert'],
  ['RABBITMQ_SSL_KEYFILE', 'key'],
] as const;

/** Reads and checks the environment; every bad value is reported, none is fixed up silently. */
export function loadServiceConfig(env: ServiceEnv): ConfigResult {
  const present = Object.fromEntries(
    Object.keys(envSchema.shape)
      .map((name) => [name, env[name]])
      .filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    };
  }
  const e = parsed.data;
  const problems: string[] = [];

  if (e.RABBITMQ_URL !== undefined && e.RABBITMQ_URLS !== undefined) {
    problems.push('RABBITMQ_URLS: set either RABBITMQ_URL or RABBITMQ_URLS, not both');
  }
  const urls = (e.RABBITMQ_URLS ?? [e.RABBITMQ_URL ?? DEFAULT_URL]).map((url) =>
    e.RABBITMQ_USE_SSL ? url.replace(/^amqp:\/\//, 'amqps://') : url,
  );
  const tlsOn = urls.some((url) => url.startsWith('amqps://'));
  const tls: Record<string, Buffer | boolean> = {};
  for (const [name, field] of TLS_FILES) {
    const content = e[name];
    if (content === undefined) continue;
    if (tlsOn) tls[field] = content;
    else problems.push(`${name}: set while TLS is off (set RABBITMQ_USE_SSL=true or use an amqps:// URL)`);
  }
  if (
    e.ML_MESSAGE_RETRY_BASE_DELAY !== undefined &&
    e.ML_MESSAGE_RETRY_MAX_DELAY !== undefined &&
    e.ML_MESSAGE_RETRY_BASE_DELAY > e.ML_MESSAGE_RETRY_MAX_DELAY
  ) {
    problems.push('ML_MESSAGE_RETRY_BASE_DELAY: must not be larger than ML_MESSAGE_RETRY_MAX_DELAY');
  }
  if (problems.length > 0) return { ok: false, problems };

  const breaker = defined({
    failureThreshold: e.ML_CIRCUIT_BREAKER_THRESHOLD,
    cooldownMs: e.ML_CIRCUIT_BREAKER_COOLDOWN,
  });
  const tlsOptions = tlsOn ? { tls: { ...tls, rejectUnauthorized: e.RABBITMQ_VERIFY_PEER } } : {};
  const journal = e.FERRY_JOURNAL;
  // The service publishes ML tasks: the ML topology is declared on every connect.
  const producer = mlProducerOptions({
    connection: {
      ...(urls.length === 1 ? { url: urls[0] } : { urls }),
      ...defined({
        heartbeatSeconds: e.RABBITMQ_HEARTBEAT,
        timeoutMs: e.RABBITMQ_CONNECTION_TIMEOUT,
        channels: e.FERRY_CHANNELS,
      }),
      ...tlsOptions,
    },
    journal,
    retry: {
      maxAttempts: e.ML_MAX_MESSAGE_RETRIES + 1,
      ...defined({ initialDelayMs: e.ML_MESSAGE_RETRY_BASE_DELAY, maxDelayMs: e.ML_MESSAGE_RETRY_MAX_DELAY }),
    },
    ...(Object.keys(breaker).length === 0 ? {} : { breaker }),
    ...(e.FERRY_ALTERNATE_EXCHANGE === undefined
      ? {}
      : {
          topology: {
            unroutable: { alternateExchange: e.FERRY_ALTERNATE_EXCHANGE, queue: e.FERRY_ALTERNATE_EXCHANGE },
          },
        }),
  });
  return {
    ok: true,
    config: {
      port: e.PORT,
      host: e.HOST,
      journal,
      producer,
      preferredBackends: {
        llm: e.PREFERRED_LLM_BACKEND,
        stt: e.PREFERRED_STT,
        embedding: e.PREFERRED_EMBEDDING_BACKEND,
      },
      http: httpAccess(e),
    },
  };
}

/** The report printed when the configuration is bad: one line per problem. */
export function formatConfigProblems(problems: readonly string[]): string {
  return `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`;
}
