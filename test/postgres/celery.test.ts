/**
 * A stock Celery 5 worker executes tasks enqueued in a PostgreSQL transaction with `outboxTasks`, under
 * the task ids the methods returned; a task of a rolled-back transaction never runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxTasks } from '../../src/postgres/index.js';
import { createProducer, type Producer } from '../../src/producer/producer.js';
import { mlProducerOptions } from '../../src/tasks/ml-producer-options.js';
import { type CeleryWorker, createVhost, startWorker } from '../celery/support.js';
import { createTestDatabase, type TestDatabase, waitUntil } from './support.js';

let vhost: Awaited<ReturnType<typeof createVhost>>;
let worker: CeleryWorker;
let relay: Producer;
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('celery');
  vhost = await createVhost();
  worker = await startWorker(vhost.url);
  relay = createProducer(
    mlProducerOptions({
      journal: { kind: 'postgres', url: db.url, pollMs: 250 },
      connection: { url: vhost.url },
    }),
  );
  await relay.start();
}, 60_000);

afterAll(async () => {
  await relay?.close({ timeoutMs: 1_000 });
  await worker?.stop();
  await vhost?.remove();
  await db?.drop();
});

describe('Celery executes what a transaction enqueued', () => {
  it('runs committed tasks under the returned ids, and not a rolled-back one', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const dropped = await outboxTasks(client).publishEmbeddingTask('share-gone', { text: 'never' });
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      const tasks = outboxTasks(client);
      const summary = await tasks.publishSummarizationTask(
        'share-1',
        { text: 'Some text' },
        { style: 'brief' },
      );
      const embedding = await tasks.publishEmbeddingTask('share-1', { text: 'Some text' });
      await client.query('COMMIT');
      const ran = await worker.waitForTask(summary);
      expect(ran.task).toBe('llm_service.tasks.summarize_content');
      expect(ran.kwargs).toEqual({
        share_id: 'share-1',
        content: { text: 'Some text' },
        options: { style: 'brief', backend: 'api' },
      });
      const embedded = await worker.waitForTask(embedding);
      expect(embedded.task).toBe('vector_service.tasks.generate_embeddings');
      expect(embedded.kwargs).toMatchObject({ share_id: 'share-1' });
      // The relay has finished with both (their rows are gone), and the rolled-back task never ran.
      await waitUntil(
        async () => (await db.pool.query('SELECT count(*)::int AS n FROM ferry.outbox')).rows[0].n === 0,
        'the outbox to be emptied',
      );
      expect(worker.executed().map((task) => task.id)).not.toContain(dropped);
      expect(worker.executed()).toHaveLength(2);
    } finally {
      client.release();
    }
  });

  it('refuses an invalid task before writing anything', async () => {
    await expect(outboxTasks(db.pool).publishTranscriptionTask('share-2', 'not a url')).rejects.toMatchObject(
      {
        code: 'INVALID_MESSAGE',
      },
    );
    const left = await db.pool.query('SELECT count(*)::int AS n FROM ferry.outbox');
    expect(left.rows[0].n).toBe(0);
  });
});
