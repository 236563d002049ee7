/**
 * `POST /api/shares/{shareId}/ml/summarize|transcribe|embed`: the original HTTP surface. The JSON body
 * carries the matching method's arguments (`content`/`options`, or `mediaUrl`/`options`) and, optionally,
 * `correlationId`, `eta`, `expires`; a valid `traceparent` request header is passed on to the worker.
 *
 * 202 `{ messageId }` once accepted (journaled); 400 naming the bad field; 503 if it cannot be accepted.
 */
import { z } from 'zod';
import { FerryError } from '../errors.js';
import type { PublishReceipt } from '../producer/receipt.js';
import type { MlTasks } from '../tasks/ml-tasks.js';
import { parseTaskInput, type TaskDelivery, TRACEPARENT } from '../tasks/task-schemas.js';
import { isJournalError, type JournalHealth } from './journal-health.js';
import { errorReply, type Reply, type RequestContext, type Route } from './router.js';

const delivery = {
  correlationId: z.unknown().optional(),
  eta: z.unknown().optional(),
  expires: z.unknown().optional(),
};
const contentBody = z.strictObject({ content: z.unknown(), options: z.unknown().optional(), ...delivery });
const mediaBody = z.strictObject({ mediaUrl: z.unknown(), options: z.unknown().optional(), ...delivery });

/** A task request's body; which fields must be present is each route's schema's business. */
interface Body {
  readonly content?: unknown;
  readonly mediaUrl?: unknown;
  readonly options?: unknown;
  readonly correlationId?: unknown;
  readonly eta?: unknown;
  readonly expires?: unknown;
}

function deliveryOf(body: Body, context: RequestContext): TaskDelivery {
  const header = context.request.headers.traceparent;
  // W3C trace context: an invalid traceparent is ignored, not an error.
  const traceparent = typeof header === 'string' && TRACEPARENT.test(header) ? header : undefined;
  return Object.fromEntries(
    Object.entries({
      correlationId: body.correlationId,
      eta: body.eta,
      expires: body.expires,
      traceparent,
    }).filter(([, value]) => value !== undefined),
  ) as TaskDelivery;
}

/** Turns a task method's outcome into the HTTP reply; what it says about the journal goes to `journal`. */
async function accepted(publish: () => Promise<PublishReceipt>, journal: JournalHealth): Promise<Reply> {
  try {
    const receipt = await publish();
    journal.recovered();
    return { status: 202, json: { messageId: receipt.messageId } };
  } catch (error) {
    if (error instanceof FerryError && error.code === 'INVALID_MESSAGE') {
      return errorReply(400, error.code, error.message);
    }
    if (isJournalError(error)) {
      journal.failed(error);
      return errorReply(503, error.code, `the task was not accepted: ${error.message}`);
    }
    const failure = FerryError.from(error);
    return errorReply(503, failure.code, `the task was not accepted: ${failure.message}`);
  }
}

type Call = (shareId: string, body: Body, delivery: TaskDelivery) => Promise<PublishReceipt>;

function taskRoute(name: string, schema: z.ZodType<Body>, call: Call, journal: JournalHealth): Route {
  return {
    method: 'POST',
    path: `/api/shares/:shareId/ml/${name}`,
    handler: async (context) => {
      const raw = await context.json();
      let body: Body;
      try {
        body = parseTaskInput('request body', schema, raw);
      } catch (error) {
        const failure = FerryError.from(error);
        return errorReply(400, failure.code, failure.message);
      }
      return accepted(() => call(context.params.shareId ?? '', body, deliveryOf(body, context)), journal);
    },
  };
}

/** The three task routes over `tasks`. The task layer validates what the body carries. */
export function taskRoutes(tasks: MlTasks, journal: JournalHealth): Route[] {
  return [
    taskRoute(
      'summarize',
      contentBody,
      (id, body, delivery) =>
        tasks.publishSummarizationTask(id, body.content as never, body.options as never, delivery),
      journal,
    ),
    taskRoute(
      'transcribe',
      mediaBody,
      (id, body, delivery) =>
        tasks.publishTranscriptionTask(id, body.mediaUrl as never, body.options as never, delivery),
      journal,
    ),
    taskRoute(
      'embed',
      contentBody,
      (id, body, delivery) =>
        tasks.publishEmbeddingTask(id, body.content as never, body.options as never, delivery),
      journal,
    ),
  ];
}
