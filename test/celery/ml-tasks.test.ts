/**
 * Every ML task type, published through ferry's task layer, is executed by a stock Celery 5 worker with
 * the arguments the original service sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Producer } from '../../src/producer/producer.js';
import { mlProducerOptions } from '../../src/tasks/ml-producer-options.js';
import { createMlTasks, type MlTasks } from '../../src/tasks/ml-tasks.js';
import { TASK_ROUTES } from '../../src/tasks/task-types.js';
import { type CeleryWorker, createVhost, startWorker } from './support.js';

let vhost: Awaited<ReturnType<typeof createVhost>>;
let worker: CeleryWorker;
let producer: Producer;
let tasks: MlTasks;

beforeAll(async () => {
  vhost = await createVhost();
  worker = await startWorker(vhost.url);
  producer = createProducer(
    mlProducerOptions({ connection: { url: vhost.url }, publish: { appId: 'ferry-celery-test' } }),
  );
  await producer.start();
  tasks = createMlTasks(producer);
}, 60_000);

afterAll(async () => {
  await producer?.close({ timeoutMs: 1_000 });
  await worker?.stop();
  await vhost?.remove();
});

/** Publishes with `publish`, waits for the confirm, then for the worker to run that task id. */
async function executed(publish: () => Promise<{ messageId: string; settled: Promise<string> }>) {
  const receipt = await publish();
  expect(await receipt.settled).toBe('confirmed');
  return worker.waitForTask(receipt.messageId);
}

describe('a stock Celery 5 worker executes what ferry publishes', () => {
  it('summarization, api backend', async () => {
    const run = await executed(() =>
      tasks.publishSummarizationTask(
        'share-1',
        { text: 'Some text', title: 'A title', url: 'https://example.com/a' },
        { style: 'brief', maxLength: 500 },
        { correlationId: 'req-42', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      ),
    );
    expect(run.task).toBe(TASK_ROUTES.summarize_llm.api.taskName);
    expect(run.routing_key).toBe('ml.summarize');
    expect(run.args).toEqual([]);
    expect(run.kwargs).toEqual({
      share_id: 'share-1',
      content: { text: 'Some text', title: 'A title', url: 'https://example.com/a' },
      options: { style: 'brief', maxLength: 500, backend: 'api' },
    });
    expect(run.correlation_id).toBe('req-42');
    expect(run.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('summarization, local provider → the local task and queue', async () => {
    const run = await executed(() =>
      tasks.publishSummarizationTask('share-2', { text: 'local text' }, { provider: 'local' }),
    );
    expect(run.task).toBe('llm_service.tasks.summarize_content_local');
    expect(run.routing_key).toBe('ml.summarize_local');
    expect(run.kwargs).toEqual({
      share_id: 'share-2',
      content: { text: 'local text' },
      options: { provider: 'local', backend: 'local' },
    });
    // Without a correlation id of its own the task id is the correlation id, as Celery does it.
    expect(run.correlation_id).toBe(run.id);
  });

  it('transcription, api and local backends', async () => {
    const api = await executed(() =>
      tasks.publishTranscriptionTask('share-3', 'https://cdn.example.com/v.mp4', { language: 'en' }),
    );
    expect(api.task).toBe('whisper.tasks.transcribe_api');
    expect(api.routing_key).toBe('ml.transcribe');
    expect(api.kwargs).toEqual({
      share_id: 'share-3',
      content: { mediaUrl: 'https://cdn.example.com/v.mp4' },
      options: { language: 'en', backend: 'api', normalize: true },
    });
    const local = await executed(() =>
      tasks.publishTranscriptionTask('share-4', 'https://cdn.example.com/w.mp3', {
        backend: 'local',
        normalize: false,
        prompt: 'names',
      }),
    );
    expect(local.task).toBe('whisper.tasks.transcribe_local');
    expect(local.routing_key).toBe('ml.transcribe_local');
    expect(local.kwargs.options).toEqual({ backend: 'local', normalize: false, prompt: 'names' });
  });

  it('embedding, with eta and expires', async () => {
    const eta = new Date(Date.now() + 500);
    const expires = new Date(Date.now() + 3_600_000);
    const run = await executed(() =>
      tasks.publishEmbeddingTask(
        'share-5',
        { text: 'embed me', type: 'article', metadata: { lang: 'en', words: 2 } },
        { embeddingType: 'summary', chunkStrategy: 'paragraph' },
        { eta, expires },
      ),
    );
    expect(run.task).toBe('vector_service.tasks.generate_embeddings');
    expect(run.routing_key).toBe('ml.embed');
    expect(run.kwargs).toEqual({
      share_id: 'share-5',
      content: { text: 'embed me', type: 'article', metadata: { lang: 'en', words: 2 } },
      options: { embedding_type: 'summary', chunk_strategy: 'paragraph', backend: 'api' },
    });
    expect(Date.parse(run.eta ?? '')).toBe(eta.getTime());
    expect(Date.parse(run.expires ?? '')).toBe(expires.getTime());
  });

  it('a batch of embeddings is one task with every entry', async () => {
    const run = await executed(() =>
      tasks.publishBatchEmbeddingTask([
        { shareId: 'a', content: { text: 'first' } },
        {
          shareId: 'b',
          content: { text: 'second', type: 'tweet' },
          options: { forceModel: 'text-embedding-3-large' },
        },
      ]),
    );
    expect(run.task).toBe('vector_service.tasks.generate_embeddings_batch');
    expect(run.routing_key).toBe('ml.embed');
    expect(run.kwargs).toEqual({
      tasks: [
        {
          share_id: 'a',
          content: { text: 'first', type: 'caption', metadata: {} },
          options: { embedding_type: 'content', backend: 'api' },
        },
        {
          share_id: 'b',
          content: { text: 'second', type: 'tweet', metadata: {} },
          options: { embedding_type: 'content', force_model: 'text-embedding-3-large', backend: 'api' },
        },
      ],
    });
  });
});
