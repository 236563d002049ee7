/**
 * The HTTP service on a producer over the hand-driven fake broker: every endpoint, good and bad
 * requests, readiness without a broker, and delivery once the broker comes.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { createProducer } from '../../src/producer/producer.js';
import { createService, type Service } from '../../src/service/server.js';
import { createMlTasks } from '../../src/tasks/ml-tasks.js';
import { FakeBroker } from '../support/fake-broker.js';

const services: Service[] = [];

/** A value nested `depth` arrays deep. */
function deep(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = [value];
  return value;
}
afterEach(async () => {
  for (const service of services.splice(0)) await service.shutdown();
});

async function serve(options: { broker?: FakeBroker; maxBodyBytes?: number } = {}) {
  const broker = options.broker ?? new FakeBroker();
  broker.responder = () => 'ack';
  const producer = createProducer(
    {
      closeTimeoutMs: 200,
      topology: { declare: false },
      connection: { reconnect: { initialDelayMs: 5, maxDelayMs: 20 } },
    },
    { broker, journal: new MemoryJournal() },
  );
  const tasks = createMlTasks(producer);
  const service = createService({
    tasks,
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    extraRoutes: [
      {
        method: 'GET',
        path: '/metrics',
        handler: () => ({ status: 200, text: 'x 1\n', contentType: 'text/plain' }),
      },
    ],
  });
  services.push(service);
  const address: AddressInfo = await service.listen(0, '127.0.0.1');
  producer.start().catch(() => undefined);
  const base = `http://127.0.0.1:${address.port}`;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(base + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    expect(response.headers.get('content-type')).toMatch(/^(application\/json|text\/plain)/);
    return {
      status: response.status,
      headers: response.headers,
      json: text.startsWith('{') ? JSON.parse(text) : text,
    };
  };
  return { broker, producer, service, call, base };
}

describe('task endpoints', () => {
  it('accept a task: 202 with the message id, published as the Celery task', async () => {
    const { call, broker } = await serve();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const summarize = await call(
      'POST',
      '/api/shares/share%201/ml/summarize',
      {
        content: { text: 'hello' },
        options: { style: 'brief' },
        correlationId: 'req-1',
      },
      { traceparent },
    );
    expect(summarize.status).toBe(202);
    const transcribe = await call('POST', '/api/shares/s2/ml/transcribe', {
      mediaUrl: 'https://e.com/v.mp4',
    });
    expect(transcribe.status).toBe(202);
    const embed = await call('POST', '/api/shares/s3/ml/embed', {
      content: { text: 'x' },
      options: { backend: 'local' },
    });
    expect(embed.status).toBe(202);
    await vi.waitFor(() => expect(broker.published).toHaveLength(3));
    const [first, second, third] = broker.published;
    expect(first?.properties.messageId).toBe(summarize.json.messageId);
    expect(first?.properties.correlationId).toBe('req-1');
    expect(first?.properties.headers).toMatchObject({
      task: 'llm_service.tasks.summarize_content',
      traceparent,
    });
    expect(JSON.parse(first?.content.toString() ?? '')[1]).toEqual({
      share_id: 'share 1',
      content: { text: 'hello' },
      options: { style: 'brief', backend: 'api' },
    });
    expect(second?.routingKey).toBe('ml.transcribe');
    expect(third?.properties.headers?.task).toBe('vector_service.tasks.generate_embeddings');
  });

  it('ignore an invalid traceparent header, as W3C trace context says', async () => {
    const { call, broker } = await serve();
    expect(
      (await call('POST', '/api/shares/s/ml/embed', { content: { text: 'x' } }, { traceparent: 'junk' }))
        .status,
    ).toBe(202);
    await vi.waitFor(() => expect(broker.published).toHaveLength(1));
    expect(broker.published[0]?.properties.headers?.traceparent).toBeUndefined();
  });

  const bad: [string, string, unknown, RegExp][] = [
    ['a missing field', 'summarize', { options: {} }, /content/],
    ['an empty text', 'embed', { content: { text: '' } }, /content\.text: must not be empty/],
    ['a bad option', 'summarize', { content: { text: 'x' }, options: { style: 'epic' } }, /options\.style/],
    ['an unknown body field', 'embed', { content: { text: 'x' }, colour: 'red' }, /colour/],
    ['a relative media URL', 'transcribe', { mediaUrl: 'v.mp4' }, /mediaUrl: must be an absolute http/],
    [
      'a media URL of another scheme',
      'transcribe',
      { mediaUrl: 'data:,x' },
      /mediaUrl: must be an absolute http/,
    ],
    [
      'expires before eta',
      'embed',
      { content: { text: 'x' }, eta: '2030-01-01T10:00:00Z', expires: '2030-01-01T10:00:00Z' },
      /expires: must be after eta/,
    ],
    [
      'nesting past the limit',
      'embed',
      JSON.stringify({ content: { text: 'x', metadata: { a: deep(40) } } }),
      /32 levels/,
    ],
    [
      'nesting that would overflow a parser',
      'embed',
      `{"content":${'['.repeat(200_000)}${']'.repeat(200_000)}}`,
      /64 levels/,
    ],
    ['a bad eta', 'embed', { content: { text: 'x' }, eta: 'soon' }, /eta: must be a Date or an ISO 8601/],
    ['a body that is not an object', 'embed', [1, 2], /expected object/],
    ['invalid JSON', 'embed', '{"content":', /not valid JSON/],
    ['an empty body', 'embed', '', /empty/],
  ];
  for (const [what, route, body, message] of bad) {
    it(`answer 400 naming the problem for ${what}`, async () => {
      const { call, broker } = await serve();
      const reply = await call('POST', `/api/shares/s/ml/${route}`, body);
      expect(reply.status).toBe(400);
      expect(reply.json.error.message).toMatch(message);
      expect(broker.published).toHaveLength(0);
    });
  }

  it('answer 415 for a body that is not JSON', async () => {
    const { base } = await serve();
    const response = await fetch(`${base}/api/shares/s/ml/embed`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('answer 413 for a body over the limit, declared or streamed', async () => {
    const { call, base } = await serve({ maxBodyBytes: 1024 });
    const big = { content: { text: 'x'.repeat(2048) } };
    const declared = await call('POST', '/api/shares/s/ml/embed', big);
    expect(declared.status).toBe(413);
    expect(declared.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    const chunks = [JSON.stringify(big)];
    const streamed = await fetch(`${base}/api/shares/s/ml/embed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        pull(controller) {
          const chunk = chunks.shift();
          if (chunk === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(chunk));
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('answer 503 when the task cannot be accepted', async () => {
    const { call, producer } = await serve();
    await producer.close();
    const reply = await call('POST', '/api/shares/s/ml/embed', { content: { text: 'x' } });
    expect(reply.status).toBe(503);
    expect(reply.json.error.code).toBe('CLOSED');
    expect(reply.json.error.message).toMatch(/not accepted/);
  });
});

describe('routing errors', () => {
  it('404 JSON for an unknown route, 405 with Allow for a wrong method', async () => {
    const { call } = await serve();
    const missing = await call('GET', '/nope');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('NOT_FOUND');
    const wrong = await call('GET', '/api/shares/s/ml/summarize');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(wrong.json.error.message).toMatch(/use POST/);
    expect((await call('DELETE', '/health/live')).status).toBe(405);
  });
});

describe('status endpoints', () => {
  it('liveness, metrics JSON with a circuitBreaker key, extra routes', async () => {
    const { call, producer } = await serve();
    await producer.start();
    expect(await call('GET', '/health/live')).toMatchObject({ status: 200, json: { status: 'ok' } });
    const metrics = await call('GET', '/api/ml/metrics/json');
    expect(metrics.status).toBe(200);
    expect(metrics.json.circuitBreaker).toMatchObject({ state: 'closed', isOpen: false });
    expect(metrics.json.connectionState).toBe('connected');
    expect(await call('GET', '/metrics')).toMatchObject({ status: 200, json: 'x 1\n' });
  });

  it('without a broker: accepts into the journal, not ready; delivers and turns ready when it comes', async () => {
    const broker = new FakeBroker();
    broker.refuse = new FerryError('CONNECTION_REFUSED', 'connect ECONNREFUSED 127.0.0.1:5672');
    const { call } = await serve({ broker });
    const accepted = await call('POST', '/api/shares/s/ml/embed', { content: { text: 'x' } });
    expect(accepted.status).toBe(202);
    const notReady = await call('GET', '/health/ready');
    expect(notReady.status).toBe(503);
    expect(notReady.json.reasons.join()).toMatch(/broker connection/);
    broker.refuse = null;
    await vi.waitFor(() => expect(broker.publishesOf(accepted.json.messageId)).toHaveLength(1), {
      timeout: 5_000,
    });
    await vi.waitFor(async () => expect((await call('GET', '/health/ready')).status).toBe(200), {
      timeout: 5_000,
    });
  });

  it('shutdown: readiness false first, then the server closes and the producer drains', async () => {
    const { call, service, producer } = await serve();
    await producer.start();
    expect((await call('GET', '/health/ready')).status).toBe(200);
    const done = service.shutdown();
    expect(service.draining).toBe(true);
    await done;
    expect(producer.status().state).toBe('closed');
    expect(service.server.listening).toBe(false);
  });
});
