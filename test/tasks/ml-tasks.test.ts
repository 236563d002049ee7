import { afterEach, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { createProducer, type Producer } from '../../src/producer/producer.js';
import { createMlTasks, type MlTasksOptions } from '../../src/tasks/ml-tasks.js';
import { FakeBroker } from '../support/fake-broker.js';

const producers: Producer[] = [];
afterEach(async () => {
  for (const producer of producers.splice(0)) await producer.close({ timeoutMs: 0 });
});

async function setup(options: MlTasksOptions = {}) {
  const broker = new FakeBroker();
  broker.responder = () => 'ack';
  const producer = createProducer({ topology: { declare: false } }, { broker, journal: new MemoryJournal() });
  producers.push(producer);
  await producer.start();
  return { broker, producer, tasks: createMlTasks(producer, options) };
}

async function refusal(promise: Promise<unknown>): Promise<FerryError> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  if (!(error instanceof FerryError)) throw error;
  return error;
}

describe('ML task validation names the bad field and publishes nothing', () => {
  const bad: [string, (tasks: Awaited<ReturnType<typeof setup>>['tasks']) => Promise<unknown>, RegExp][] = [
    ['empty text', (t) => t.publishSummarizationTask('s', { text: '' }), /content\.text: must not be empty/],
    [
      'unknown style',
      (t) => t.publishSummarizationTask('s', { text: 'x' }, { style: 'long' as 'brief' }),
      /options\.style/,
    ],
    [
      'misspelt option',
      (t) => t.publishSummarizationTask('s', { text: 'x' }, { maxLenght: 3 } as never),
      /options: .*maxLenght/,
    ],
    ['empty share id', (t) => t.publishEmbeddingTask('', { text: 'x' }), /shareId: must not be empty/],
    [
      'relative media URL',
      (t) => t.publishTranscriptionTask('s', 'video.mp4'),
      /mediaUrl: must be an absolute http:\/\/ or https:\/\/ URL/,
    ],
    [
      'media URL of another scheme',
      (t) => t.publishTranscriptionTask('s', 'file:///etc/passwd'),
      /mediaUrl: must be an absolute http:\/\/ or https:\/\/ URL/,
    ],
    [
      'expires before eta',
      (t) =>
        t.publishEmbeddingTask(
          's',
          { text: 'x' },
          {},
          { eta: '2030-01-01T10:00:00Z', expires: new Date('2030-01-01T09:00:00Z') },
        ),
      /expires: must be after eta/,
    ],
    [
      'nesting the workers cannot decode',
      (t) => {
        let metadata: Record<string, unknown> = { leaf: 1 };
        for (let i = 0; i < 5_000; i += 1) metadata = { next: metadata };
        return t.publishEmbeddingTask('s', { text: 'x', metadata: metadata as never });
      },
      /nested more than 32 levels deep; the workers cannot decode it/,
    ],
    [
      'a number that is not finite',
      (t) => t.publishEmbeddingTask('s', { text: 'x', metadata: { score: Number.NaN } }),
      /content\.metadata\.score/,
    ],
    [
      'batch entry',
      (t) =>
        t.publishBatchEmbeddingTask([
          { shareId: 'a', content: { text: 'x' } },
          { shareId: 'b', content: {} as never },
        ]),
      /tasks\.1\.content\.text/,
    ],
    ['empty batch', (t) => t.publishBatchEmbeddingTask([]), /tasks: must hold at least one task/],
    [
      'bad traceparent',
      (t) => t.publishEmbeddingTask('s', { text: 'x' }, {}, { traceparent: 'nope' }),
      /traceparent: must be a W3C traceparent/,
    ],
    [
      'bad eta',
      (t) => t.publishEmbeddingTask('s', { text: 'x' }, {}, { eta: 'tomorrow' }),
      /eta: must be a Date or an ISO 8601/,
    ],
  ];
  for (const [name, call, message] of bad) {
    it(name, async () => {
      const { tasks, broker, producer } = await setup();
      const error = await refusal(call(tasks));
      expect(error.code).toBe('INVALID_MESSAGE');
      expect(error.message).toMatch(message);
      expect(broker.published).toHaveLength(0);
      expect(producer.status().messages.accepted).toBe(0);
    });
  }
});

describe('routing by backend', () => {
  it('the preferred backends pick the queue and task when a call names none', async () => {
    const { tasks, broker } = await setup({ preferredBackends: { llm: 'local', stt: 'local' } });
    await tasks.publishSummarizationTask('s', { text: 'x' });
    await tasks.publishSummarizationTask('s', { text: 'x' }, { backend: 'api' });
    await tasks.publishTranscriptionTask('s', 'https://e.com/a.mp3');
    await tasks.publishEmbeddingTask('s', { text: 'x' });
    const sent = broker.published.map((p) => [p.exchange, p.routingKey, p.properties.headers?.task]);
    expect(sent).toEqual([
      ['bookmarkai.ml', 'ml.summarize_local', 'llm_service.tasks.summarize_content_local'],
      ['bookmarkai.ml', 'ml.summarize', 'llm_service.tasks.summarize_content'],
      ['bookmarkai.ml', 'ml.transcribe_local', 'whisper.tasks.transcribe_local'],
      ['bookmarkai.ml', 'ml.embed', 'vector_service.tasks.generate_embeddings'],
    ]);
    for (const p of broker.published) {
      expect(p.properties.persistent).toBe(true);
      expect(p.properties.messageId).toBe(p.properties.headers?.id);
    }
  });

  it('getStatus keeps the original fields next to the full status', async () => {
    const { tasks, producer } = await setup();
    const status = tasks.getStatus();
    expect(status.circuitBreakerOpen).toBe(false);
    expect(status.connectionState).toBe(producer.status().connection.phase);
    expect(status.circuitBreaker.state).toBe('closed');
    expect(tasks.isHealthy()).toBe(producer.isHealthy());
  });
});
