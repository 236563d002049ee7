/**
 * Celery task messages, protocol 2, as a stock Celery 5 worker reads them: the task name and id (and
 * eta, expires, retries, …) in the AMQP headers, the body `[args, kwargs, embed]` as UTF-8 JSON, and the
 * task id as the correlation id unless the caller ties the task to one of its own.
 */
import { randomUUID } from 'node:crypto';
import type { JsonValue, PublishRequest } from '../producer/publish-request.js';

/** One Celery task to publish. */
export interface CeleryTask {
  readonly exchange: string;
  readonly routingKey: string;
  /** The name the worker registered the task under (`llm_service.tasks.summarize_content`). */
  readonly taskName: string;
  readonly args?: readonly JsonValue[];
  /** JSON-serialisable keyword arguments; fields that are `undefined` are left out, as JSON does. */
  readonly kwargs: Readonly<Record<string, unknown>>;
  /** The task id, also ferry's message id; a UUID when absent. */
  readonly taskId?: string | undefined;
  readonly correlationId?: string | undefined;
  /** W3C trace context, carried as the `traceparent` header. */
  readonly traceparent?: string | undefined;
  readonly eta?: Date | undefined;
  readonly expires?: Date | undefined;
  /** Celery's `origin` header: who sent the task. */
  readonly origin?: string;
}

/**
 * An ISO 8601 time Celery 5.2 reads back exactly: its parser takes the fraction as microseconds, so a
 * millisecond fraction (`.123`) would become 123 µs; six digits and an explicit offset avoid that.
 */
export function celeryTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}.${String(date.getUTCMilliseconds()).padStart(3, '0')}000+00:00`;
}

/** A Python-style repr for Celery's log lines (`argsrepr`/`kwargsrepr`): JSON is close enough. */
function repr(value: unknown): string {
  const text = JSON.stringify(value) ?? '';
  return text.length > 1024 ? `${text.slice(0, 1021)}...` : text;
}

/** The {@link PublishRequest} for a Celery task: what `producer.publish()` takes. */
export function celeryRequest(task: CeleryTask): PublishRequest {
  const taskId = task.taskId ?? randomUUID();
  const args = task.args ?? [];
  const kwargs = task.kwargs as { [key: string]: JsonValue };
  return {
    exchange: task.exchange,
    routingKey: task.routingKey,
    messageId: taskId,
    correlationId: task.correlationId ?? taskId,
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    body: [args, kwargs, { callbacks: null, errbacks: null, chain: null, chord: null }],
    headers: {
      lang: 'js',
      task: task.taskName,
      id: taskId,
      shadow: null,
      eta: task.eta === undefined ? null : celeryTime(task.eta),
      expires: task.expires === undefined ? null : celeryTime(task.expires),
      group: null,
      group_index: null,
      retries: 0,
      timelimit: [null, null],
      root_id: taskId,
      parent_id: null,
      argsrepr: repr(args),
      kwargsrepr: repr(kwargs),
      origin: task.origin ?? 'ferry',
      ignore_result: false,
      ...(task.traceparent === undefined ? {} : { traceparent: task.traceparent }),
    },
  };
}
