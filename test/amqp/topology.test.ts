import { describe, expect, it } from 'vitest';
import { declarationFailure } from '../../src/amqp/declare.js';
import { buildTopology, ML_TOPOLOGY } from '../../src/amqp/topology.js';
import { FerryError } from '../../src/errors.js';

const WORKER_QUEUES = [
  'ml.summarize',
  'ml.summarize_local',
  'ml.transcribe',
  'ml.transcribe_local',
  'ml.embed',
];

describe('the default topology', () => {
  it('declares the ML exchange and the workers’ quorum queues with exactly their arguments', () => {
    expect(ML_TOPOLOGY.exchanges).toEqual([
      { name: 'bookmarkai.ml', type: 'topic', durable: true },
      { name: 'bookmarkai.ml.dlx', type: 'topic', durable: true },
    ]);
    for (const name of WORKER_QUEUES) {
      expect(ML_TOPOLOGY.queues).toContainEqual({
        name,
        durable: true,
        arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 5 },
      });
      expect(ML_TOPOLOGY.bindings).toContainEqual({
        queue: name,
        exchange: 'bookmarkai.ml',
        routingKey: name,
      });
    }
  });

  it('keeps its dead-letter exchange and queue separate from the workers’ objects', () => {
    expect(ML_TOPOLOGY.queues).toContainEqual({ name: 'bookmarkai.ml.dead-letter', durable: true });
    expect(ML_TOPOLOGY.bindings).toContainEqual({
      queue: 'bookmarkai.ml.dead-letter',
      exchange: 'bookmarkai.ml.dlx',
      routingKey: '#',
    });
    expect(ML_TOPOLOGY.queues).toHaveLength(WORKER_QUEUES.length + 1);
    expect(ML_TOPOLOGY.bindings).toHaveLength(WORKER_QUEUES.length + 1);
  });

  it('can be rebuilt with other names and arguments', () => {
    const topology = buildTopology({
      exchange: 'x',
      queues: ['a'],
      queueArguments: { 'x-queue-type': 'classic' },
      deadLetterExchange: 'dlx',
      deadLetterQueue: 'dlq',
    });
    expect(topology).toEqual({
      exchanges: [
        { name: 'x', type: 'topic', durable: true },
        { name: 'dlx', type: 'topic', durable: true },
      ],
      queues: [
        { name: 'a', durable: true, arguments: { 'x-queue-type': 'classic' } },
        { name: 'dlq', durable: true },
      ],
      bindings: [
        { queue: 'a', exchange: 'x', routingKey: 'a' },
        { queue: 'dlq', exchange: 'dlx', routingKey: '#' },
      ],
    });
  });

  it('declares the dead-letter queue as a quorum queue when asked, and as a classic one by default', () => {
    const quorum = buildTopology({ deadLetterQueueType: 'quorum' });
    expect(quorum.queues).toContainEqual({
      name: 'bookmarkai.ml.dead-letter',
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    // Nothing else changes: the workers' queues keep exactly their arguments.
    expect(quorum.queues.filter((queue) => queue.name !== 'bookmarkai.ml.dead-letter')).toEqual(
      ML_TOPOLOGY.queues.filter((queue) => queue.name !== 'bookmarkai.ml.dead-letter'),
    );
    expect(buildTopology({ deadLetterQueueType: 'classic' })).toEqual(ML_TOPOLOGY);
  });

  it('refuses an unknown dead-letter queue type with INVALID_OPTIONS', () => {
    const options = JSON.parse('{"deadLetterQueueType":"stream"}') as Parameters<typeof buildTopology>[0];
    expect(() => buildTopology(options)).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        message: expect.stringContaining('deadLetterQueueType'),
      }),
    );
  });
});

describe('declaration failures', () => {
  const closeError = (code: number, classId: number, text: string) =>
    Object.assign(new Error(`Operation failed: QueueDeclare; ${code} (…) with message "${text}"`), {
      code,
      classId,
      methodId: 10,
    });

  it('a 406 names the object and is a fatal TOPOLOGY_MISMATCH', () => {
    const error = declarationFailure(
      'queue',
      'ml.embed',
      closeError(406, 50, "PRECONDITION_FAILED - inequivalent arg 'x-queue-type'"),
    );
    expect(error).toBeInstanceOf(FerryError);
    expect(error).toMatchObject({ code: 'TOPOLOGY_MISMATCH', severity: 'fatal', permanent: true });
    expect(error.message).toMatch(/^queue 'ml\.embed' already exists with other arguments/);
    expect(error.details).toMatchObject({ kind: 'queue', name: 'ml.embed', replyCode: 406 });
  });

  it('other failures keep their code and name the object too', () => {
    const refused = declarationFailure(
      'exchange',
      'bookmarkai.ml',
      closeError(403, 40, 'ACCESS_REFUSED - configure access'),
    );
    expect(refused).toMatchObject({ code: 'ACCESS_REFUSED', permanent: true, details: { kind: 'exchange' } });
    const lost = declarationFailure(
      'binding',
      'x → q (k)',
      new Error('Channel ended, no reply will be forthcoming'),
    );
    expect(lost).toMatchObject({ code: 'CHANNEL_LOST', permanent: false });
    expect(lost.message).toContain("binding 'x → q (k)'");
  });
});
