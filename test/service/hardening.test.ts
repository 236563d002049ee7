/**
 * The service's edges, through HTTP: the API token, the shutdown's order, requests Node cannot parse,
 * a client leaving mid-body, and a property test that no request ever gets a 5xx or an uncaught error.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { createProducer } from '../../src/producer/producer.js';
import type { Log } from '../../src/service/log.js';
import { createService, type Service, type ServiceOptions } from '../../src/service/server.js';
import { createMlTasks } from '../../src/tasks/ml-tasks.js';
import { FakeBroker } from '../support/fake-broker.js';

const TOKEN = 'a-test-token-of-some-length';
const services: Service[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.shutdown();
});

type Line = { level: string; msg: string; fields: Readonly<Record<string, unknown>> };

async function serve(options: Partial<Omit<ServiceOptions, 'tasks'>> = {}) {
  const broker = new FakeBroker();
  broker.responder = () => 'ack';
  const producer = createProducer(
    { closeTimeoutMs: 100, topology: { declare: false } },
    { broker, journal: new MemoryJournal() },
  );
  const lines: Line[] = [];
  const log: Log = (level, msg, fields = {}) => lines.push({ level, msg, fields });
  const service = createService({
    tasks: createMlTasks(producer),
    log,
    extraRoutes: [
      {
        method: 'GET',
        path: '/metrics',
        handler: () => ({ status: 200, text: 'x 1\n', contentType: 'text/plain' }),
      },
      { method: 'GET', path: '/open', open: true, handler: () => ({ status: 200, json: { open: true } }) },
    ],
    ...options,
  });
  services.push(service);
  const { port } = await service.listen(0, '127.0.0.1');
  producer.start().catch(() => undefined);
  const base = `http://127.0.0.1:${port}`;
  const task = (headers: Record<string, string> = {}) =>
    fetch(`${base}/api/shares/s/ml/embed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ content: { text: 'x' } }),
    });
  return { service, base, port, task, lines };
}

describe('FERRY_API_TOKEN', () => {
  it('task routes and other routes need the bearer token; health and open routes do not', async () => {
    const { base, task } = await serve({ apiToken: TOKEN });
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }]) {
      const refused = await task(headers);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer');
      expect(await refused.json()).toEqual({
        error: { code: 'UNAUTHORIZED', message: expect.stringContaining('Authorization: Bearer') },
      });
    }
    expect((await task({ authorization: `Bearer ${TOKEN}` })).status).toBe(202);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(
      200,
    );
    expect((await fetch(`${base}/open`)).status).toBe(200);
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/health/ready`)).status).not.toBe(401);
  });

  it('changes nothing when unset', async () => {
    const { base, task } = await serve();
    expect((await task()).status).toBe(202);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });
});

describe('shutdown', () => {
  it('refuses new tasks and readiness at once, keeps listening for the window, then closes', async () => {
    const { service, base, task } = await serve({ shutdownDelayMs: 60_000 });
    expect((await task()).status).toBe(202);
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    let done = false;
    const stopped = service.shutdown().then(() => {
      done = true;
    });
    try {
      const refused = await task();
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ error: { code: 'SHUTTING_DOWN' } });
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ reasons: expect.arrayContaining(['shutting down']) });
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(60_000);
    } finally {
      vi.useRealTimers();
    }
    await stopped;
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  });
});

describe('requests Node cannot parse', () => {
  it('answers a 100 KB URL with a JSON 431', async () => {
    const { base } = await serve();
    const response = await fetch(`${base}/api/shares/${'x'.repeat(100_000)}/ml/embed`);
    expect(response.status).toBe(431);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ error: { code: 'REQUEST_TOO_LARGE' } });
  });

  it('answers a malformed request line with a JSON 400', async () => {
    const { port } = await serve();
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let text = '';
      socket.on('data', (data) => (text += data.toString()));
      socket.on('close', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: { code: 'BAD_REQUEST' },
    });
  });

  it('does not log a client that leaves mid-body as an error', async () => {
    const { service, port, lines } = await serve();
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          'POST /api/shares/s/ml/embed HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"content":',
          () => {
            socket.destroy();
            resolve();
          },
        );
      });
    });
    await vi.waitFor(
      () =>
        new Promise<void>((resolve, reject) =>
          service.server.getConnections((_, count) =>
            count === 0 ? resolve() : reject(new Error(`${count} open`)),
          ),
        ),
    );
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
  });
});

describe('no request gets a 5xx', () => {
  it('holds for any method, path, headers and body (property test)', async () => {
    const { base, lines } = await serve({ apiToken: TOKEN });
    const segment = fc.oneof(
      fc.constantFrom(
        'api',
        'shares',
        'ml',
        'summarize',
        'transcribe',
        'embed',
        'health',
        'ready',
        'live',
        '%',
        '%E0%A4%A',
        '..',
      ),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
    const json = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
      fc
        .record(
          {
            content: fc.anything(),
            mediaUrl: fc.string(),
            options: fc.anything(),
            eta: fc.string(),
            expires: fc.string(),
          },
          { requiredKeys: [] },
        )
        .map((value) => JSON.stringify(value) ?? 'null'),
      fc.string(),
      fc.nat({ max: 5_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
        fc.array(segment, { maxLength: 6 }),
        fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8', ''),
        fc.boolean(),
        json,
        async (method, segments, contentType, authorized, body) => {
          const response = await fetch(`${base}/${segments.join('/')}`, {
            method,
            headers: {
              ...(contentType === '' ? {} : { 'content-type': contentType }),
              ...(authorized ? { authorization: `Bearer ${TOKEN}` } : {}),
            },
            ...(method === 'GET' ? {} : { body }),
          });
          const text = await response.text();
          expect(response.status).toBeLessThan(500);
          expect(() => JSON.parse(text)).not.toThrow();
        },
      ),
      { numRuns: 300 },
    );
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
  });
});
