import { describe, expect, it } from 'vitest';
import { DEFAULT_RECONNECT_BACKOFF, DEFAULT_RETRY_BACKOFF } from '../../machines/backoff.js';
import { DEAD_LETTER_EXCHANGE, DEFAULT_TOPOLOGY } from '../../src/amqp/topology.js';
import { FerryError } from '../../src/errors.js';
import { DEFAULT_URL, type ProducerOptions, resolveOptions } from '../../src/producer/options.js';

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
  it("fills in the original service's defaults", () => {
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
    expect(resolved.topology).toBe(DEFAULT_TOPOLOGY);
    expect(resolved.deadLetterExchange).toBe(DEAD_LETTER_EXCHANGE);
    expect(resolved.healthCheckExchange).toBe(DEFAULT_TOPOLOGY.exchanges[0]!.name);
    expect(resolved).toMatchObject({
      failFastWhenOpen: false,
      maxInFlight: 10_000,
      confirmTimeoutMs: 5_000,
      timestamp: false,
    });
    expect(resolved.appId).toBeUndefined();
    expect(resolved.supervisor).toMatchObject({ seed: 1, maxLiveMessages: 256 });
    // Unset machine settings stay unset, so the machines' own defaults apply; the one exception is the
    // bound on a whole connect attempt, which covers the adapter's per-URL timeout plus the declarations.
    expect(resolved.supervisor.connection).toEqual({ connectTimeoutMs: 2 * 10_000 });
    expect(resolved.supervisor.breaker).toEqual({});
    expect(resolved.supervisor.message).toEqual({ confirmTimeoutMs: 5_000 });
  });

  it('merges a partial backoff over the default policy', () => {
    const resolved = resolveOptions({ retry: { initialDelayMs: 5 }, reconnect: { jitter: 'full' } });
    expect(resolved.supervisor.message?.retry).toEqual({ ...DEFAULT_RETRY_BACKOFF, initialDelayMs: 5 });
    expect(resolved.supervisor.connection?.reconnect).toEqual({
      ...DEFAULT_RECONNECT_BACKOFF,
      jitter: 'full',
    });
  });

  it('passes every tunable through to its part', () => {
    const resolved = resolveOptions({
      urls: ['amqp://a', 'amqps://b'],
      tls: { ca: 'pem' },
      topology: false,
      maxReconnectAttempts: 4,
      connectionTimeoutMs: 1_500,
      healthCheckIntervalMs: 2_000,
      maxAttempts: 7,
      parkedRetryDelayMs: 9_000,
      breaker: { failureThreshold: 3, cooldownMs: 100 },
      maxLiveMessageActors: 12,
      channels: 4,
    });
    expect(resolved.connect.urls).toEqual(['amqp://a', 'amqps://b']);
    expect(resolved.connect.channels).toBe(4);
    expect(resolved.connect.tls).toEqual({ ca: 'pem', rejectUnauthorized: true });
    expect(resolved.topology).toBeNull();
    expect(resolved.healthCheckExchange).toBe('amq.topic');
    expect(resolved.supervisor.connection).toEqual({
      maxReconnectAttempts: 4,
      // Two URLs tried in one attempt, then the declarations.
      connectTimeoutMs: 3 * 1_500,
      healthCheckIntervalMs: 2_000,
    });
    expect(resolved.supervisor.breaker).toEqual({ failureThreshold: 3, cooldownMs: 100 });
    expect(resolved.supervisor.message).toMatchObject({ maxAttempts: 7, parkedRetryDelayMs: 9_000 });
    expect(resolved.supervisor.maxLiveMessages).toBe(12);
  });

  it('lists every bad field in one error, by path', () => {
    const problems = problemsOf({
      url: 'localhost:5672',
      heartbeatSeconds: -1,
      retry: { jitter: 'sometimes', multiplier: 0.5 },
      breaker: { failureRate: { windowMs: 1_000, buckets: 10, minimumVolume: 5, threshold: 2 } },
      maxBufferedBytes: 'lots',
      channels: 33,
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'breaker.failureRate.threshold',
      'channels',
      'heartbeatSeconds',
      'maxBufferedBytes',
      'retry.jitter',
      'retry.multiplier',
      'url',
    ]);
  });

  it('refuses unknown fields, and url together with urls', () => {
    expect(problemsOf({ maxAttempt: 3 }).join()).toContain('maxAttempt');
    expect(problemsOf({ url: 'amqp://a', urls: ['amqp://b'] })).toEqual([
      'give either url or urls, not both',
    ]);
    expect(problemsOf({ retry: { initialDelay: 5 } }).join()).toContain('initialDelay');
  });

  it('refuses a value the schema cannot even read (a typed array for urls) as a problem, not a TypeError', () => {
    // fast-check found it: zod's readonly() froze the value and threw.
    expect(problemsOf({ urls: Float32Array.from([0]) as never }).join()).toMatch(/cannot be read/);
  });

  it('the message says what is wrong, one problem a line', () => {
    try {
      resolveOptions({ maxInFlight: 0, appId: '' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(
        /^invalid producer options:\n {2}maxInFlight: .+\n {2}appId: .+$/,
      );
    }
  });
});
