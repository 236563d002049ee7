import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_EXCHANGE, ML_TOPOLOGY } from '../../src/amqp/topology.js';
import { formatConfigProblems, loadServiceConfig } from '../../src/service/config.js';

describe('service configuration from the environment', () => {
  it('defaults: local broker, port 3001, sqlite journal, api backends', () => {
    const result = loadServiceConfig({});
    if (!result.ok) throw new Error(result.problems.join());
    expect(result.config).toMatchObject({
      port: 3001,
      host: '127.0.0.1',
      journal: { kind: 'sqlite', path: './ferry.db' },
      preferredBackends: { llm: 'api', stt: 'api', embedding: 'api' },
      // The document's "maximum 3 retry attempts per message": 3 retries after the first publish.
      producer: { connection: { url: 'amqp://guest:guest@127.0.0.1:5672' }, retry: { maxAttempts: 4 } },
    });
    // The service publishes ML tasks: it declares the ML topology, which a library producer does not.
    expect(result.config.producer.topology).toEqual({
      declare: ML_TOPOLOGY,
      deadLetterExchange: DEAD_LETTER_EXCHANGE,
    });
  });

  it('maps the original variables onto producer options', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-config-'));
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    const result = loadServiceConfig({
      RABBITMQ_URL: 'amqp://u:p@broker:5671',
      RABBITMQ_USE_SSL: 'true',
      RABBITMQ_SSL_CACERT: join(dir, 'ca.pem'),
      RABBITMQ_VERIFY_PEER: 'false',
      RABBITMQ_HEARTBEAT: '60',
      RABBITMQ_CONNECTION_TIMEOUT: '5000',
      ML_MAX_MESSAGE_RETRIES: '5',
      ML_MESSAGE_RETRY_BASE_DELAY: '500',
      ML_MESSAGE_RETRY_MAX_DELAY: '8000',
      ML_CIRCUIT_BREAKER_THRESHOLD: '3',
      ML_CIRCUIT_BREAKER_COOLDOWN: '1000',
      PREFERRED_STT: 'local',
      PORT: '8080',
      HOST: '', // empty counts as unset
      FERRY_JOURNAL: 'memory',
      FERRY_ALTERNATE_EXCHANGE: 'bookmarkai.ml.unroutable',
      FERRY_CHANNELS: '4',
    });
    if (!result.ok) throw new Error(result.problems.join());
    expect(result.config.producer).toEqual({
      connection: {
        url: 'amqps://u:p@broker:5671',
        heartbeatSeconds: 60,
        timeoutMs: 5000,
        channels: 4,
        tls: { ca: Buffer.from('CA'), rejectUnauthorized: false },
      },
      // ML_MAX_MESSAGE_RETRIES counts retries after the first publish.
      retry: { maxAttempts: 6, initialDelayMs: 500, maxDelayMs: 8000 },
      breaker: { failureThreshold: 3, cooldownMs: 1000 },
      journal: { kind: 'memory' },
      topology: {
        declare: ML_TOPOLOGY,
        deadLetterExchange: DEAD_LETTER_EXCHANGE,
        unroutable: { alternateExchange: 'bookmarkai.ml.unroutable', queue: 'bookmarkai.ml.unroutable' },
      },
    });
    expect(result.config.preferredBackends.stt).toBe('local');
    expect(result.config).toMatchObject({ port: 8080, host: '127.0.0.1' });
  });

  it('reports every bad value at once, naming each variable and never echoing the URL', () => {
    const result = loadServiceConfig({
      RABBITMQ_URL: 'http://user:secret@host',
      RABBITMQ_HEARTBEAT: 'soon',
      ML_MAX_MESSAGE_RETRIES: '-1',
      RABBITMQ_USE_SSL: 'maybe',
      RABBITMQ_VERIFY_PEER: 'yes please',
      RABBITMQ_SSL_KEYFILE: '/nonexistent/key.pem',
      PREFERRED_LLM_BACKEND: 'cloud',
      PORT: '70000',
      FERRY_JOURNAL: 'mongodb://x',
      FERRY_CHANNELS: '33',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const names = result.problems.map((problem) => problem.split(':')[0]);
    expect(names.sort()).toEqual(
      [
        'FERRY_CHANNELS',
        'FERRY_JOURNAL',
        'ML_MAX_MESSAGE_RETRIES',
        'PORT',
        'PREFERRED_LLM_BACKEND',
        'RABBITMQ_HEARTBEAT',
        'RABBITMQ_SSL_KEYFILE',
        'RABBITMQ_URL',
        'RABBITMQ_USE_SSL',
        'RABBITMQ_VERIFY_PEER',
      ].sort(),
    );
    const report = formatConfigProblems(result.problems);
    expect(report).toMatch(/10 problems/);
    expect(report).not.toContain('secret');
    expect(report).toMatch(/RABBITMQ_USE_SSL: must be true or false/);
    expect(report).toMatch(/PREFERRED_LLM_BACKEND: must be api or local/);
  });

  it('refuses TLS files while TLS is off, and a base delay over the max', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-config-'));
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    const result = loadServiceConfig({
      RABBITMQ_SSL_CACERT: join(dir, 'ca.pem'),
      ML_MESSAGE_RETRY_BASE_DELAY: '9000',
      ML_MESSAGE_RETRY_MAX_DELAY: '1000',
    });
    expect(result.ok ? [] : result.problems).toEqual([
      'RABBITMQ_SSL_CACERT: set while TLS is off (set RABBITMQ_USE_SSL=true or use an amqps:// URL)',
      'ML_MESSAGE_RETRY_BASE_DELAY: must not be larger than ML_MESSAGE_RETRY_MAX_DELAY',
    ]);
  });

  it('RABBITMQ_URLS: brokers to fail over between, in order, TLS applied to each; not together with RABBITMQ_URL', () => {
    const result = loadServiceConfig({
      RABBITMQ_URLS: 'amqp://u:p@b1:5672, amqp://u:p@b2:5672',
      RABBITMQ_USE_SSL: 'true',
    });
    if (!result.ok) throw new Error(result.problems.join());
    expect(result.config.producer.connection?.urls).toEqual(['amqps://u:p@b1:5672', 'amqps://u:p@b2:5672']);
    expect(result.config.producer.connection?.url).toBeUndefined();
    const both = loadServiceConfig({ RABBITMQ_URL: 'amqp://a', RABBITMQ_URLS: 'amqp://b' });
    expect(both.ok ? [] : both.problems).toEqual([
      'RABBITMQ_URLS: set either RABBITMQ_URL or RABBITMQ_URLS, not both',
    ]);
    const bad = loadServiceConfig({ RABBITMQ_URLS: 'amqp://u:secret@b1,http://b2' });
    expect(bad.ok ? [] : bad.problems).toEqual(['RABBITMQ_URLS.1: must be an amqp:// or amqps:// URL']);
  });

  it('ML_MAX_MESSAGE_RETRIES=0: the first publish only, no retry', () => {
    const result = loadServiceConfig({ ML_MAX_MESSAGE_RETRIES: '0' });
    if (!result.ok) throw new Error(result.problems.join());
    expect(result.config.producer.retry?.maxAttempts).toBe(1);
  });
});
