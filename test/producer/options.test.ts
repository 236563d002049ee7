import { describe, expect, it } from 'vitest';
import { DEFAULT_BREAKER_SETTINGS } from '../../machines/breaker.machine.js';
import { DEFAULT_CONNECTION_SETTINGS } from '../../machines/connection.machine.js';
import { DEFAULT_MESSAGE_SETTINGS } from '../../machines/message.machine.js';
import { DEAD_LETTER_EXCHANGE, ML_TOPOLOGY } from '../../src/amqp/topology.js';
import { FerryError } from '../../src/errors.js';
import { DEFAULT_URL, PRODUCER_DEFAULTS } from '../../src/producer/defaults.js';
import { type ProducerOptions, resolveOptions, supervisorInput } from '../../src/producer/options.js';

function problemsOf(options: unknown): string[] {
  try {
    resolveOptions(options as ProducerOptions);
  } catch (error) {
    if (error instanceof FerryError && error.code === 'INVALID_OPTIONS') {
      return (error.details as { problems: string[] }).problems;
    }
    throw error;
  }
  throw new Error('expected INVALID_OPTIONS');
}

describe('resolveOptions', () => {
  it('fills in the documented defaults, all from defaults.ts', () => {
    const resolved = resolveOptions({ seed: 1 });
    expect(resolved.connect).toEqual({
      urls: [DEFAULT_URL],
      // The same seed draws the first URL of a failover round and the machines' jitter.
      seed: 1,
      heartbeatSeconds: 60,
      connectionTimeoutMs: 10_000,
      clientName: 'ferry',
      // One confirm channel unless `channels` asks for a pool.
      channels: 1,
    });
    // A library user's vhost gets nothing declared; the ML topology is asked for (mlProducerOptions).
    expect(resolved.topology).toBeNull();
    expect(resolved.deadLetterExchange).toBe(DEAD_LETTER_EXCHANGE);
    expect(resolved.healthCheckExchange).toBe(PRODUCER_DEFAULTS.connection.healthCheckExchange);
    expect(resolved).toMatchObject({
      failFastWhenOpen: false,
      maxInFlight: 10_000,
      confirmTimeoutMs: 5_000,
      maxBufferedMessages: 100_000,
      bufferTimeoutMs: 30_000,
      closeTimeoutMs: 10_000,
      timestamp: false,
      maxLiveActors: 256,
      journal: { kind: 'memory' },
    });
    expect(resolved.appId).toBeUndefined();
    expect(resolved.unroutable).toBeNull();
  });

  it('declares a topology only when asked, and checks health against its first exchange', () => {
    const resolved = resolveOptions({ topology: { declare: ML_TOPOLOGY } });
    expect(resolved.topology).toBe(ML_TOPOLOGY);
    expect(resolved.healthCheckExchange).toBe(ML_TOPOLOGY.exchanges[0]!.name);
  });

  it("hands every machine complete settings, so none of the machines' standalone defaults applies", () => {
    const input = supervisorInput(resolveOptions({ seed: 1 }));
    expect(Object.keys(input.connection).sort()).toEqual(Object.keys(DEFAULT_CONNECTION_SETTINGS).sort());
    expect(Object.keys(input.breaker).sort()).toEqual(Object.keys(DEFAULT_BREAKER_SETTINGS).sort());
    expect(Object.keys(input.message).sort()).toEqual(Object.keys(DEFAULT_MESSAGE_SETTINGS).sort());
    expect(input).toMatchObject({ seed: 1, maxLiveMessages: PRODUCER_DEFAULTS.retry.maxLiveActors });
    // The bound on a whole connect attempt covers the adapter's per-URL timeout plus the declarations.
    expect(input.connection.connectTimeoutMs).toBe(2 * PRODUCER_DEFAULTS.connection.timeoutMs);
    expect(input.connection.maxReconnectAttempts).toBe(PRODUCER_DEFAULTS.connection.reconnect.maxAttempts);
    // One confirm timeout: the one the hot path enforces is the one the message machine is told.
    expect(input.message.confirmTimeoutMs).toBe(resolveOptions({ seed: 1 }).confirmTimeoutMs);
  });

  it('merges a partial backoff over the default policy', () => {
    const resolved = resolveOptions({
      retry: { initialDelayMs: 5 },
      connection: { reconnect: { jitter: 'full' } },
    });
    const {
      maxAttempts: _r,
      parkedDelayMs: _p,
      maxLiveActors: _l,
      ...retryBackoff
    } = PRODUCER_DEFAULTS.retry;
    const { maxAttempts: _c, ...reconnectBackoff } = PRODUCER_DEFAULTS.connection.reconnect;
    expect(resolved.retry.retry).toEqual({ ...retryBackoff, initialDelayMs: 5 });
    expect(resolved.connection.reconnect).toEqual({ ...reconnectBackoff, jitter: 'full' });
  });

  it('passes every tunable through to its part', () => {
    const resolved = resolveOptions({
      connection: {
        urls: ['amqp://a', 'amqps://b'],
        tls: { ca: 'pem' },
        timeoutMs: 1_500,
        healthCheckIntervalMs: 2_000,
        reconnect: { maxAttempts: 4 },
        channels: 4,
      },
      topology: { declare: false, deadLetterExchange: 'dlx' },
      retry: { maxAttempts: 7, parkedDelayMs: 9_000, maxLiveActors: 12 },
      breaker: { failureThreshold: 3, cooldownMs: 100, failFastWhenOpen: true },
      buffer: { maxMessages: 5, maxBytes: 6, timeoutMs: 7 },
      publish: { maxInFlight: 8, confirmTimeoutMs: 9, maxMessageBytes: 10, appId: 'me', timestamp: true },
      closeTimeoutMs: 11,
    });
    expect(resolved.connect.urls).toEqual(['amqp://a', 'amqps://b']);
    expect(resolved.connect.channels).toBe(4);
    expect(resolved.connect.tls).toEqual({ ca: 'pem', rejectUnauthorized: true });
    expect(resolved.topology).toBeNull();
    expect(resolved.deadLetterExchange).toBe('dlx');
    expect(resolved.healthCheckExchange).toBe(PRODUCER_DEFAULTS.connection.healthCheckExchange);
    expect(resolved.connection).toMatchObject({
      maxReconnectAttempts: 4,
      // Two URLs tried in one attempt, then the declarations.
      connectTimeoutMs: 3 * 1_500,
      healthCheckIntervalMs: 2_000,
    });
    expect(resolved.breaker).toEqual({ failureThreshold: 3, cooldownMs: 100, failureRate: null });
    expect(resolved.retry).toMatchObject({ maxAttempts: 7, parkedRetryDelayMs: 9_000 });
    expect(resolved).toMatchObject({
      maxLiveActors: 12,
      failFastWhenOpen: true,
      maxBufferedMessages: 5,
      maxBufferedBytes: 6,
      bufferTimeoutMs: 7,
      maxInFlight: 8,
      confirmTimeoutMs: 9,
      maxMessageBytes: 10,
      appId: 'me',
      timestamp: true,
      closeTimeoutMs: 11,
    });
  });

  it('lists every bad field in one error, by path', () => {
    const problems = problemsOf({
      connection: {
        url: 'localhost:5672',
        heartbeatSeconds: -1,
        reconnect: { maxAttempts: 0 },
        channels: 33,
      },
      retry: { jitter: 'sometimes', multiplier: 0.5, maxAttempts: 0 },
      breaker: { failureRate: { windowMs: 1_000, buckets: 10, minimumVolume: 5, threshold: 2 } },
      buffer: { maxBytes: 'lots' },
      topology: { declare: true },
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'breaker.failureRate.threshold',
      'buffer.maxBytes',
      'connection.channels',
      'connection.heartbeatSeconds',
      'connection.reconnect.maxAttempts',
      'connection.url',
      'retry.jitter',
      'retry.maxAttempts',
      'retry.multiplier',
      'topology.declare',
    ]);
  });

  it('refuses unknown fields, and url together with urls', () => {
    expect(problemsOf({ maxAttempt: 3 }).join()).toContain('maxAttempt');
    // The flat names of ferry 0.x before the groups are refused, not ignored.
    expect(problemsOf({ maxInFlight: 3 }).join()).toContain('maxInFlight');
    expect(problemsOf({ connection: { url: 'amqp://a', urls: ['amqp://b'] } })).toEqual([
      'connection: give either url or urls, not both',
    ]);
    expect(problemsOf({ retry: { initialDelay: 5 } }).join()).toContain('initialDelay');
  });

  it('refuses a value the schema cannot even read (a typed array for urls) as a problem, not a TypeError', () => {
    // fast-check found it: zod's readonly() froze the value and threw.
    expect(problemsOf({ connection: { urls: Float32Array.from([0]) as never } }).join()).toMatch(
      /cannot be read/,
    );
  });

  it('the message says what is wrong, one problem a line', () => {
    try {
      resolveOptions({ publish: { maxInFlight: 0, appId: '' } });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(
        /^invalid producer options:\n {2}publish\.maxInFlight: .+\n {2}publish\.appId: .+$/,
      );
    }
  });
});
