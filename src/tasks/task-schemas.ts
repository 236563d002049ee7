/**
 * The ML task inputs as zod schemas: the argument types of the ML task methods, checked at the boundary so
 * a bad call is refused with every bad field named before anything is accepted. Objects are strict: a
 * misspelt option is an error, not a silently ignored field.
 */
import { z } from 'zod';
import { FerryError } from '../errors.js';

const backend = z.enum(['api', 'local']);
const text = z.string().min(1, 'must not be empty');
const shortText = z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters');

/** A share's id, as the API gateway knows it. */
export const shareIdSchema = shortText;

/** What to summarize. */
export const summarizationContentSchema = z.strictObject({
  text,
  title: z.string().optional(),
  url: z.string().optional(),
  contentType: z.string().optional(),
});

/** How to summarize; `backend` defaults to `local` for the `local` provider, else `PREFERRED_LLM_BACKEND`. */
export const summarizationOptionsSchema = z.strictObject({
  provider: z.enum(['openai', 'anthropic', 'local']).optional(),
  model: z.string().min(1).optional(),
  maxLength: z.number().int().positive().optional(),
  style: z.enum(['brief', 'detailed', 'bullets']).optional(),
  backend: backend.optional(),
});

/** The media to transcribe: an absolute http(s) URL the worker can fetch (no `file:`, `data:`, ...). */
export const mediaUrlSchema = z.url({
  protocol: /^https?$/,
  hostname: z.regexes.hostname,
  message: 'must be an absolute http:// or https:// URL',
});

/** How to transcribe; `backend` defaults to `PREFERRED_STT`, `normalize` to true. */
export const transcriptionOptionsSchema = z.strictObject({
  language: z.string().min(1).optional(),
  backend: backend.optional(),
  normalize: z.boolean().optional(),
  prompt: z.string().optional(),
});

/** What to embed. */
export const embeddingContentSchema = z.strictObject({
  text,
  type: z.enum(['caption', 'transcript', 'article', 'comment', 'tweet']).optional(),
  metadata: z.record(z.string(), z.json()).optional(),
});

/** How to embed; `backend` defaults to `PREFERRED_EMBEDDING_BACKEND`. */
export const embeddingOptionsSchema = z.strictObject({
  embeddingType: z.enum(['content', 'summary', 'composite']).optional(),
  forceModel: z.enum(['text-embedding-3-small', 'text-embedding-3-large']).optional(),
  chunkStrategy: z.enum(['none', 'transcript', 'paragraph', 'sentence', 'fixed']).optional(),
  backend: backend.optional(),
});

/** One entry of a batch of embeddings. */
export const batchEmbeddingEntrySchema = z.strictObject({
  shareId: shareIdSchema,
  content: embeddingContentSchema,
  options: embeddingOptionsSchema.optional(),
});

/** A batch of embeddings: one Celery task for all of them. */
export const batchEmbeddingSchema = z
  .array(batchEmbeddingEntrySchema)
  .min(1, 'must hold at least one task')
  .max(10_000, 'must hold at most 10000 tasks');

/** A time as a `Date` or an ISO 8601 date-time with an offset (`2026-01-01T10:00:00Z`). */
const instantMessage = 'must be a Date or an ISO 8601 date-time such as 2026-01-01T10:00:00Z';
const instant = z.union([z.date(), z.iso.datetime({ offset: true, message: instantMessage })], {
  message: instantMessage,
});

/** A W3C `traceparent` value: version, trace id, parent id, flags. */
export const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

const toTime = (value: Date | string): number => (value instanceof Date ? value : new Date(value)).getTime();

/** How one task is delivered, apart from what it does. */
export const taskDeliverySchema = z
  .strictObject({
    /** The Celery task id, also ferry's message id (the dedupe key); a UUID when absent. */
    taskId: shortText.optional(),
    /** Ties the task to a request upstream; the task id when absent. */
    correlationId: shortText.optional(),
    /** A W3C trace context, passed to the worker in the `traceparent` header. */
    traceparent: z
      .string()
      .regex(TRACEPARENT, 'must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)')
      .optional(),
    /** Not before this time (Celery's `eta`). */
    eta: instant.optional(),
    /** The worker drops the task after this time (Celery's `expires`). */
    expires: instant.optional(),
  })
  .refine(
    // A task that expires before it may run is dropped by the worker unrun: refused here instead.
    (delivery) =>
      delivery.eta === undefined ||
      delivery.expires === undefined ||
      toTime(delivery.expires) > toTime(delivery.eta),
    { message: 'must be after eta: the worker would drop the task before it may run', path: ['expires'] },
  );

/** Summarization content, as callers pass it. */
export type SummarizationContent = z.input<typeof summarizationContentSchema>;
/** Summarization options, as callers pass them. */
export type SummarizationOptions = z.input<typeof summarizationOptionsSchema>;
/** Transcription options, as callers pass them. */
export type TranscriptionOptions = z.input<typeof transcriptionOptionsSchema>;
/** Embedding content, as callers pass it. */
export type EmbeddingContent = z.input<typeof embeddingContentSchema>;
/** Embedding options, as callers pass them. */
export type EmbeddingOptions = z.input<typeof embeddingOptionsSchema>;
/** One entry of `publishBatchEmbeddingTask`. */
export type BatchEmbeddingEntry = z.input<typeof batchEmbeddingEntrySchema>;
/** Delivery options of one task: id, correlation, trace context, eta, expiry. */
export type TaskDelivery = z.input<typeof taskDeliverySchema>;

/**
 * The deepest nesting of arrays and objects a task input may have. The workers decode the body with
 * Python's `json`, which gives up past its recursion limit (about 1,000 levels) and so would fail the
 * task on every delivery; no task's input needs more than a few levels, so the bound is far below that.
 */
export const MAX_TASK_DEPTH = 32;

/** How deeply `value` nests, counted without recursion, up to `limit + 1` (enough to refuse it). */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [item, depth] = next;
    if (typeof item !== 'object' || item === null || item instanceof Date) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Parses `value` (an object whose keys are the method's argument names) with `schema`.
 *
 * @throws FerryError `INVALID_MESSAGE` naming every bad field (`content.text: must not be empty`), or
 *   the nesting when it is deeper than {@link MAX_TASK_DEPTH} (checked first: validating it would
 *   recurse as deep).
 */
export function parseTaskInput<T extends z.ZodType>(what: string, schema: T, value: unknown): z.output<T> {
  if (nestingDepth(value, MAX_TASK_DEPTH) > MAX_TASK_DEPTH) {
    throw new FerryError(
      'INVALID_MESSAGE',
      `invalid ${what}: nested more than ${MAX_TASK_DEPTH} levels deep; the workers cannot decode it`,
    );
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
  );
  throw new FerryError('INVALID_MESSAGE', `invalid ${what}: ${problems.join('; ')}`, {
    details: { problems },
  });
}
