/**
 * The original document's `curl -X POST …/summarize` sends no body and no Content-Type: the answer is
 * a 400 naming the field the task needs, not a 415 about a media type nobody sent.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { createProducer } from '../../src/producer/producer.js';
import { createService, type Service } from '../../src/service/server.js';
import { createMlTasks } from '../../src/tasks/ml-tasks.js';
import { FakeBroker } from '../support/fake-broker.js';

const services: Service[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.shutdown();
});

/** A POST exactly as `curl -X POST <url>` sends it: no body, no Content-Type, no Content-Length. */
function bareCurlPost(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, method: 'POST' }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('a POST without a body', () => {
  it.each([
    ['summarize', 'content'],
    ['transcribe', 'mediaUrl'],
    ['embed', 'content'],
  ])('to %s answers 400 naming %s', async (route, field) => {
    const broker = new FakeBroker();
    const producer = createProducer(
      { closeTimeoutMs: 200, topology: { declare: false } },
      { broker, journal: new MemoryJournal() },
    );
    const service = createService({ tasks: createMlTasks(producer) });
    services.push(service);
    const { port }: AddressInfo = await service.listen(0, '127.0.0.1');

    const reply = await bareCurlPost(port, `/api/shares/share-1/ml/${route}`);
    expect(reply.status, reply.body).toBe(400);
    const { error } = JSON.parse(reply.body) as { error: { code: string; message: string } };
    expect(error.message).toContain(field);
    expect(broker.published).toHaveLength(0);
  });
});
