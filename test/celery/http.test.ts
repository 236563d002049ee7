/**
 * `ferry serve` end to end: tasks posted to the HTTP service are executed by a stock Celery 5 worker
 * with the body's arguments.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService } from '../../src/cli/serve-command.js';
import { silentLog } from '../../src/service/log.js';
import type { Service } from '../../src/service/server.js';
import { type CeleryWorker, createVhost, startWorker } from './support.js';

let vhost: Awaited<ReturnType<typeof createVhost>>;
let worker: CeleryWorker;
let service: Service & { port: number };

beforeAll(async () => {
  vhost = await createVhost();
  worker = await startWorker(vhost.url);
  service = await startService(
    { RABBITMQ_URL: vhost.url, PORT: '0', FERRY_JOURNAL: 'memory', PREFERRED_LLM_BACKEND: 'local' },
    silentLog,
  );
}, 60_000);

afterAll(async () => {
  await service?.shutdown();
  await worker?.stop();
  await vhost?.remove();
});

async function post(path: string, body: unknown): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${service.port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const reply = (await response.json()) as { messageId: string };
  expect(response.status).toBe(202);
  return reply.messageId;
}

describe('POST /api/shares/{shareId}/ml/* reaches a real Celery worker', () => {
  it('summarize (the preferred local backend), transcribe, embed', async () => {
    const summarize = await post('/api/shares/s-1/ml/summarize', {
      content: { text: 'Some text', title: 'T' },
      options: { maxLength: 100 },
    });
    const transcribe = await post('/api/shares/s-2/ml/transcribe', {
      mediaUrl: 'https://cdn.example.com/a.mp4',
      options: { language: 'fr' },
    });
    const embed = await post('/api/shares/s-3/ml/embed', {
      content: { text: 'vector me' },
      correlationId: 'c-9',
    });

    const summarized = await worker.waitForTask(summarize);
    expect(summarized.task).toBe('llm_service.tasks.summarize_content_local');
    expect(summarized.routing_key).toBe('ml.summarize_local');
    expect(summarized.kwargs).toEqual({
      share_id: 's-1',
      content: { text: 'Some text', title: 'T' },
      options: { maxLength: 100, backend: 'local' },
    });
    const transcribed = await worker.waitForTask(transcribe);
    expect(transcribed.task).toBe('whisper.tasks.transcribe_api');
    expect(transcribed.kwargs).toEqual({
      share_id: 's-2',
      content: { mediaUrl: 'https://cdn.example.com/a.mp4' },
      options: { language: 'fr', backend: 'api', normalize: true },
    });
    const embedded = await worker.waitForTask(embed);
    expect(embedded.task).toBe('vector_service.tasks.generate_embeddings');
    expect(embedded.correlation_id).toBe('c-9');
    expect(embedded.kwargs).toEqual({
      share_id: 's-3',
      content: { text: 'vector me', type: 'caption', metadata: {} },
      options: { embedding_type: 'content', backend: 'api' },
    });
  });
});
