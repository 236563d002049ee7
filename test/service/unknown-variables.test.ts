import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/producer/options.js';
import { KNOWN_VARIABLES } from '../../src/service/config.js';
import { unknownVariables } from '../../src/service/unknown-variables.js';

describe('unknown environment variables', () => {
  it("names each variable with the service's prefixes that it does not read, with the closest known one", () => {
    const found = unknownVariables(
      {
        ML_MAX_RETRIES: '3',
        RABBITMQ_HEARTBEAT_SECONDS: '60',
        FERRY_JORNAL: 'memory',
        REDIS_URL: 'redis://x', // no ferry prefix: not ferry's to judge
        RABBITMQ_URL: 'amqp://x', // known
        PATH: '/bin',
      },
      KNOWN_VARIABLES,
    );
    expect(found).toEqual([
      { name: 'FERRY_JORNAL', closest: 'FERRY_JOURNAL' },
      { name: 'ML_MAX_RETRIES', closest: 'ML_MAX_MESSAGE_RETRIES' },
      { name: 'RABBITMQ_HEARTBEAT_SECONDS', closest: 'RABBITMQ_HEARTBEAT' },
    ]);
  });

  it('knows every variable the service reads, FERRY_INSPECT and RABBITMQ_URLS included', () => {
    const env = Object.fromEntries(KNOWN_VARIABLES.map((name) => [name, 'x']));
    expect(unknownVariables(env, KNOWN_VARIABLES)).toEqual([]);
    expect(KNOWN_VARIABLES).toEqual(expect.arrayContaining(['FERRY_INSPECT', 'RABBITMQ_URLS']));
  });
});

describe('defaults as the original document gives them', () => {
  it('asks the broker for a 60 s heartbeat when none is configured', () => {
    expect(resolveOptions({}).connect.heartbeatSeconds).toBe(60);
  });
});
