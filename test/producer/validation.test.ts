import { describe, expect, it } from 'vitest';
import { createProducer } from '../../src/producer/producer.js';
import type { PublishRequest } from '../../src/producer/publish-request.js';
import { FakeBroker } from '../support/fake-broker.js';
import { rejection, startedRig, task } from './helpers.js';

const circular: Record<string, unknown> = { name: 'loop' };
circular.self = circular;

/** Requests that must be refused, each with a word its error message must contain. */
const BAD: readonly (readonly [string, unknown, string])[] = [
  ['missing exchange', { routingKey: 'k', body: 1 }, 'exchange'],
  ['non-string exchange', { exchange: 7, routingKey: 'k', body: 1 }, 'exchange'],
  ['non-string routing key', { exchange: 'x', routingKey: 42, body: 1 }, 'routingKey'],
  [
    '300-byte message id',
    { exchange: 'x', routingKey: 'k', body: 1, messageId: 'a'.repeat(300) },
    'messageId',
  ],
  ['empty message id', { exchange: 'x', routingKey: 'k', body: 1, messageId: '' }, 'messageId'],
  ['BigInt body', { exchange: 'x', routingKey: 'k', body: { big: 10n } }, 'JSON'],
  ['circular body', { exchange: 'x', routingKey: 'k', body: circular }, 'JSON'],
  ['missing body', { exchange: 'x', routingKey: 'k' }, 'body'],
  ['function body', { exchange: 'x', routingKey: 'k', body: () => 1 }, 'JSON'],
  ['priority 256', { exchange: 'x', routingKey: 'k', body: 1, priority: 256 }, 'priority'],
  ['fractional priority', { exchange: 'x', routingKey: 'k', body: 1, priority: 1.5 }, 'priority'],
  ['negative expiration', { exchange: 'x', routingKey: 'k', body: 1, expirationMs: -1 }, 'expirationMs'],
  ['headers not an object', { exchange: 'x', routingKey: 'k', body: 1, headers: 'h' }, 'headers'],
  ['body over maxMessageBytes', { exchange: 'x', routingKey: 'k', body: 'x'.repeat(1025) }, '1025 bytes'],
  ['not an object', 'hello', 'object'],
];

describe('invalid messages are refused before anything is accepted', () => {
  it.each(BAD)('%s', async (_, request, mentions) => {
    const { producer, broker, journal } = await startedRig({ publish: { maxMessageBytes: 1024 } });
    const error = await rejection(producer.publish(request as PublishRequest));
    expect(error.code).toBe('INVALID_MESSAGE');
    expect(error.message).toContain(mentions);
    expect(producer.status().messages).toMatchObject({ accepted: 0, buffered: 0, inFlight: 0 });
    expect(journal.pendingCount()).toBe(0);
    expect(broker.session.published).toHaveLength(0);
  });

  it('a body of exactly maxMessageBytes is accepted', async () => {
    const { producer, broker } = await startedRig({ publish: { maxMessageBytes: 1024 } });
    await producer.publish({ exchange: 'x', routingKey: 'k', body: 'x'.repeat(1024) });
    expect(broker.session.published).toHaveLength(1);
  });

  it('lists every problem of one message', async () => {
    const { producer } = await startedRig();
    const error = await rejection(
      producer.publish({ exchange: 7, routingKey: 8, body: 1, priority: -1 } as unknown as PublishRequest),
    );
    expect(error.details?.problems).toEqual([
      'exchange must be a string',
      'routingKey must be a string',
      'priority must be an integer from 0 to 255',
    ]);
  });

  it('publishMany with one bad message accepts none and names its index', async () => {
    const { producer, broker, journal } = await startedRig();
    const error = await rejection(
      producer.publishMany([
        task(1),
        task(2),
        { ...task(3), routingKey: undefined } as unknown as PublishRequest,
      ]),
    );
    expect(error.code).toBe('INVALID_MESSAGE');
    expect(error.message).toMatch(/^message 2: /);
    expect(error.details?.index).toBe(2);
    expect(producer.status().messages.accepted).toBe(0);
    expect(journal.pendingCount()).toBe(0);
    expect(broker.session.published).toHaveLength(0);
  });

  it('publishMany refuses something that is not an array', async () => {
    const { producer } = await startedRig();
    const error = await rejection(producer.publishMany(task(1) as unknown as PublishRequest[]));
    expect(error.code).toBe('INVALID_MESSAGE');
  });

  it('bad options throw INVALID_OPTIONS listing every problem', () => {
    let thrown: unknown;
    try {
      createProducer(
        {
          connection: { url: 'http://example' },
          publish: { maxInFlight: 0 },
          retry: { initialDelayMs: -5 },
          breaker: { failureThreshold: 1.5 },
          nonsense: true,
        } as never,
        { broker: new FakeBroker() },
      );
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: 'FerryError', code: 'INVALID_OPTIONS' });
    const problems = (thrown as { details: { problems: string[] } }).details.problems;
    expect(problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining([
        'connection.url',
        'publish.maxInFlight',
        'retry.initialDelayMs',
        'breaker.failureThreshold',
      ]),
    );
    expect(problems.some((p) => p.includes('nonsense'))).toBe(true);
    expect(problems).toHaveLength(5);
  });
});
