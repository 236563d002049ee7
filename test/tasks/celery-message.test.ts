import { describe, expect, it } from 'vitest';
import { celeryRequest, celeryTime } from '../../src/tasks/celery-message.js';

describe('celeryRequest', () => {
  const request = celeryRequest({
    exchange: 'bookmarkai.ml',
    routingKey: 'ml.embed',
    taskName: 'vector_service.tasks.generate_embeddings',
    kwargs: { share_id: 's', content: { text: 't' }, dropped: undefined },
    taskId: 'task-1',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    eta: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
  });

  it('puts the task name and id in the headers, protocol 2', () => {
    expect(request.headers).toMatchObject({
      task: 'vector_service.tasks.generate_embeddings',
      id: 'task-1',
      root_id: 'task-1',
      parent_id: null,
      retries: 0,
      expires: null,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
  });

  it('sends [args, kwargs, embed] as UTF-8 JSON; undefined kwargs are left out', () => {
    expect(request.body).toEqual([
      [],
      { share_id: 's', content: { text: 't' }, dropped: undefined },
      { callbacks: null, errbacks: null, chain: null, chord: null },
    ]);
    expect(JSON.parse(JSON.stringify(request.body))[1]).toEqual({ share_id: 's', content: { text: 't' } });
    expect(request.contentType).toBe('application/json');
    expect(request.contentEncoding).toBe('utf-8');
    expect(request.headers?.kwargsrepr).toBe(JSON.stringify({ share_id: 's', content: { text: 't' } }));
  });

  it('uses the task id as message id and, by default, as correlation id', () => {
    expect(request.messageId).toBe('task-1');
    expect(request.correlationId).toBe('task-1');
    const own = celeryRequest({
      exchange: 'x',
      routingKey: 'k',
      taskName: 't',
      kwargs: {},
      correlationId: 'c',
    });
    expect(own.correlationId).toBe('c');
    expect(own.messageId).not.toBe('c');
    expect(own.headers?.id).toBe(own.messageId);
  });

  it('writes times with microseconds, which Celery 5.2 parses back exactly', () => {
    const date = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    const text = celeryTime(date);
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    expect(Date.parse(text)).toBe(date.getTime());
    expect(request.headers?.eta).toBe(text);
  });
});
