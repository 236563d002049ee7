/**
 * Every default of `createProducer`'s options, in one place: options.ts fills each unset option from
 * here once, and nothing downstream falls back again. The machines keep their own standalone defaults
 * for when they run by themselves; the producer always hands them complete settings built from these.
 */
import type { BackoffPolicy } from '../../machines/backoff.js';
import type { FailureRateSettings } from '../../machines/breaker.machine.js';
import { DEAD_LETTER_EXCHANGE, type Topology } from '../amqp/topology.js';
import type { JournalConfig } from '../journal/journal-config.js';

/** The broker ferry talks to when none is configured: the local one, as in the quick start. */
export const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** The defaults, group by group as `ProducerOptions` has them. */
export const PRODUCER_DEFAULTS = {
  connection: {
    url: DEFAULT_URL,
    heartbeatSeconds: 60,
    timeoutMs: 10_000,
    clientName: 'ferry',
    channels: 1,
    /** 500 ms doubling to 32 s, plus 0–30 % so that instances spread out. */
    reconnect: {
      initialDelayMs: 500,
      maxDelayMs: 32_000,
      multiplier: 2,
      jitter: 'proportional',
      jitterFactor: 0.3,
      maxAttempts: 10,
    } satisfies BackoffPolicy & { readonly maxAttempts: number },
    healthCheckIntervalMs: 30_000,
    /** Not an option: a frozen broker answers nothing, so a check this late counts as failed. */
    healthCheckTimeoutMs: 5_000,
    /** Not an option: how long a graceful disconnect may take before the socket is dropped. */
    disconnectTimeoutMs: 5_000,
    /** The health check's exchange when the topology declares none: one every broker has. */
    healthCheckExchange: 'amq.topic',
  },
  /** 3 attempts, 1 s doubling to 10 s, plus 0–30 % so that retries spread out. */
  retry: {
    initialDelayMs: 1_000,
    maxDelayMs: 10_000,
    multiplier: 2,
    jitter: 'proportional',
    jitterFactor: 0.3,
    maxAttempts: 3,
    parkedDelayMs: 60_000,
    maxLiveActors: 256,
  } satisfies BackoffPolicy & Record<string, unknown>,
  /** Opens after 10 consecutive failures, probes after 30 s; no rate rule. */
  breaker: {
    failureThreshold: 10,
    cooldownMs: 30_000,
    failureRate: null as FailureRateSettings | null,
    failFastWhenOpen: false,
  },
  buffer: {
    maxMessages: 100_000,
    maxBytes: 128 * 1024 * 1024,
    timeoutMs: 30_000,
  },
  publish: {
    maxInFlight: 10_000,
    confirmTimeoutMs: 5_000,
    maxMessageBytes: 16 * 1024 * 1024,
    timestamp: false,
  },
  topology: {
    /**
     * Nothing: a library user's vhost gets no objects they did not ask for. The ML service, the Nest
     * module and `mlProducerOptions()` of `ferry/tasks` ask for the ML topology.
     */
    declare: false as false | Topology,
    /**
     * The ML service's name also when nothing is declared, so that asking for the ML topology alone
     * never leaves its dead-letter exchange unused beside another that does not exist. A missing one
     * parks the message (journaled, unhealthy, `parkedReason` naming it) until it exists.
     */
    deadLetterExchange: DEAD_LETTER_EXCHANGE,
    unroutable: { probeTimeoutMs: 5_000, reprobeIntervalMs: 60_000 },
  },
  journal: { kind: 'memory' } as JournalConfig,
  closeTimeoutMs: 10_000,
} as const;
