/**
 * The service side in process: a log line written inside a span carries its `trace_id` and `span_id`
 * (none outside one), and a request's SERVER span continues its `traceparent` and is the parent of the
 * publish span of the task it accepted.
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import { afterEach, expect, it } from 'vitest';
import { jsonLog } from '../../src/service/log.js';
import { createService, type Service } from '../../src/service/server.js';
import { createMlTasks } from '../../src/tasks/ml-tasks.js';
import { rig } from '../producer/helpers.js';
import { exporter, registerTracing } from './support.js';

registerTracing();

let service: Service | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

it('log lines inside a span carry its trace_id and span_id, and lines outside carry none', () => {
  let text = '';
  const log = jsonLog((line) => {
    text += line;
  });
  const span = trace.getTracer('test').startSpan('work');
  context.with(trace.setSpan(context.active(), span), () => log('info', 'inside'));
  span.end();
  log('info', 'outside');
  const [inside, outside] = text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(inside).toMatchObject({
    msg: 'inside',
    trace_id: span.spanContext().traceId,
    span_id: span.spanContext().spanId,
    trace_flags: '01',
  });
  expect(outside).not.toHaveProperty('trace_id');
  expect(outside).not.toHaveProperty('span_id');
});

it('a request’s SERVER span continues its traceparent and is the parent of the publish span', async () => {
  const { producer } = rig();
  service = createService({ tasks: createMlTasks(producer) });
  const { port } = await service.listen(0, '127.0.0.1');
  const response = await fetch(`http://127.0.0.1:${port}/api/shares/s-1/ml/embed`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    },
    body: JSON.stringify({ content: { text: 'vector me' } }),
  });
  expect(response.status).toBe(202);
  const { messageId } = (await response.json()) as { messageId: string };
  await expect.poll(() => exporter.getFinishedSpans().length).toBeGreaterThan(0);
  const server = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER);
  expect(server?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  expect(server?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  expect(server?.name).toBe('POST /api/shares/:shareId/ml/embed');
  expect(server?.attributes).toMatchObject({
    'http.route': '/api/shares/:shareId/ml/embed',
    'http.request.method': 'POST',
    'url.path': '/api/shares/s-1/ml/embed',
    'http.response.status_code': 202,
  });
  // Not started: the message stays unsettled until the producer closes, which ends its span.
  await service.shutdown();
  service = undefined;
  const publish = exporter
    .getFinishedSpans()
    .find((span) => span.attributes['messaging.message.id'] === messageId);
  expect(publish?.kind).toBe(SpanKind.PRODUCER);
  expect(publish?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
  expect(publish?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
});
