/**
 * The ML producer API that services call (`publishSummarizationTask`, `publishTranscriptionTask`,
 * `publishEmbeddingTask`, `publishBatchEmbeddingTask`, `isHealthy`, `getStatus`) as a thin typed layer
 * over a {@link Producer}: inputs validated, routed by backend, encoded as Celery task messages.
 *
 * ```ts
 * const producer = createProducer(mlProducerOptions({ connection: { url } })); // the ML topology declared
 * const tasks = createMlTasks(producer, { preferredBackends: { llm: 'local' } });
 * const { messageId } = await tasks.publishSummarizationTask('share-1', { text: '…' }, { style: 'brief' });
 * ```
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import type { Producer } from '../producer/producer.js';
import type { PublishRequest } from '../producer/publish-request.js';
import type { PublishReceipt } from '../producer/receipt.js';
import type { ProducerStatus } from '../producer/status.js';
import { celeryRequest } from './celery-message.js';
import {
  type BatchEmbeddingEntry,
  batchEmbeddingSchema,
  type EmbeddingContent,
  type EmbeddingOptions,
  embeddingContentSchema,
  embeddingOptionsSchema,
  mediaUrlSchema,
  parseTaskInput,
  type SummarizationContent,
  type SummarizationOptions,
  shareIdSchema,
  summarizationContentSchema,
  summarizationOptionsSchema,
  type TaskDelivery,
  type TranscriptionOptions,
  taskDeliverySchema,
  transcriptionOptionsSchema,
} from './task-schemas.js';
import {
  type Backend,
  DEFAULT_BACKENDS,
  type PreferredBackends,
  TASK_EXCHANGE,
  TASK_ROUTES,
  type TaskType,
} from './task-types.js';

/** Options of {@link createMlTasks}. */
export interface MlTasksOptions {
  /** Backends for calls that name none (the `PREFERRED_*` variables); `api` by default. */
  readonly preferredBackends?: Partial<PreferredBackends>;
  /** The exchange tasks go to; `bookmarkai.ml` by default. */
  readonly exchange?: string;
  /** Celery's `origin` header; `ferry@<hostname>` by default. */
  readonly origin?: string;
}

/** `getStatus()`: the producer's status plus the flat fields existing dashboards read. */
export interface MlTaskStatus extends ProducerStatus {
  readonly connectionState: ProducerStatus['connection']['phase'];
  readonly reconnectAttempts: number;
  readonly consecutiveFailures: number;
  readonly circuitBreakerOpen: boolean;
  /** Messages off the healthy path, waiting for a retry. */
  readonly retryQueueSize: number;
}

type Json = Record<string, unknown>;

const delivered = (value: TaskDelivery | undefined) =>
  parseTaskInput('task delivery options', taskDeliverySchema.optional(), value) ?? {};

/**
 * Where task requests go: a producer's `publish()` (a receipt), or the outbox's `enqueue()` inside a
 * transaction (the message id). The task methods validate, route and encode the same way for both.
 */
export interface TaskSink<Result> {
  publish(request: PublishRequest): Promise<Result>;
}

/** The ML task methods of the original service over any {@link TaskSink}. */
export class MlTaskMethods<Result> {
  private readonly backends: PreferredBackends;
  private readonly exchange: string;
  private readonly origin: string;

  /** @internal Use {@link createMlTasks}, or `outboxTasks` of `ferry/postgres`. */
  constructor(
    private readonly sink: TaskSink<Result>,
    options: MlTasksOptions = {},
  ) {
    this.backends = { ...DEFAULT_BACKENDS, ...options.preferredBackends };
    this.exchange = options.exchange ?? TASK_EXCHANGE;
    this.origin = options.origin ?? `ferry@${hostname()}`;
  }

  /**
   * Summarizes a share's text: `llm_service.tasks.summarize_content` on `ml.summarize`, or the `_local`
   * task and queue for the local backend.
   *
   * @throws FerryError `INVALID_MESSAGE` naming every bad field; the producer's errors otherwise.
   */
  async publishSummarizationTask(
    shareId: string,
    content: SummarizationContent,
    options?: SummarizationOptions,
    delivery?: TaskDelivery,
  ): Promise<Result> {
    const input = parseTaskInput(
      'summarization task',
      z.object({
        shareId: shareIdSchema,
        content: summarizationContentSchema,
        options: summarizationOptionsSchema.optional(),
      }),
      { shareId, content, options },
    );
    const backend: Backend =
      input.options?.backend ?? (input.options?.provider === 'local' ? 'local' : this.backends.llm);
    return this.publish('summarize_llm', backend, delivery, {
      share_id: input.shareId,
      content: input.content,
      options: { ...input.options, backend },
    });
  }

  /**
   * Transcribes a share's media: `whisper.tasks.transcribe_api` on `ml.transcribe`, or
   * `whisper.tasks.transcribe_local` on `ml.transcribe_local`.
   *
   * @throws FerryError `INVALID_MESSAGE` naming every bad field; the producer's errors otherwise.
   */
  async publishTranscriptionTask(
    shareId: string,
    mediaUrl: string,
    options?: TranscriptionOptions,
    delivery?: TaskDelivery,
  ): Promise<Result> {
    const input = parseTaskInput(
      'transcription task',
      z.object({
        shareId: shareIdSchema,
        mediaUrl: mediaUrlSchema,
        options: transcriptionOptionsSchema.optional(),
      }),
      { shareId, mediaUrl, options },
    );
    const backend = input.options?.backend ?? this.backends.stt;
    return this.publish('transcribe_whisper', backend, delivery, {
      share_id: input.shareId,
      content: { mediaUrl: input.mediaUrl },
      options: {
        language: input.options?.language,
        backend,
        normalize: input.options?.normalize ?? true,
        prompt: input.options?.prompt,
      },
    });
  }

  /**
   * Embeds a share's text: `vector_service.tasks.generate_embeddings` on `ml.embed`.
   *
   * @throws FerryError `INVALID_MESSAGE` naming every bad field; the producer's errors otherwise.
   */
  async publishEmbeddingTask(
    shareId: string,
    content: EmbeddingContent,
    options?: EmbeddingOptions,
    delivery?: TaskDelivery,
  ): Promise<Result> {
    const input = parseTaskInput(
      'embedding task',
      z.object({
        shareId: shareIdSchema,
        content: embeddingContentSchema,
        options: embeddingOptionsSchema.optional(),
      }),
      { shareId, content, options },
    );
    const backend = input.options?.backend ?? this.backends.embedding;
    return this.publish('embed_vectors', backend, delivery, {
      share_id: input.shareId,
      ...this.embedding(input.content, input.options, backend),
    });
  }

  /**
   * Embeds many shares' texts in one task: `vector_service.tasks.generate_embeddings_batch` on
   * `ml.embed`, with kwargs `{ tasks: [{ share_id, content, options }, …] }`.
   *
   * @throws FerryError `INVALID_MESSAGE` naming every bad field (`tasks.3.content.text: …`).
   */
  async publishBatchEmbeddingTask(
    tasks: readonly BatchEmbeddingEntry[],
    delivery?: TaskDelivery,
  ): Promise<Result> {
    const input = parseTaskInput('batch embedding task', z.object({ tasks: batchEmbeddingSchema }), {
      tasks,
    });
    return this.publish('embed_vectors_batch', this.backends.embedding, delivery, {
      tasks: input.tasks.map((task) => ({
        share_id: task.shareId,
        ...this.embedding(task.content, task.options, task.options?.backend ?? this.backends.embedding),
      })),
    });
  }

  /** The embedding kwargs the vector service reads: snake_case options, content with defaults. */
  private embedding(
    content: z.output<typeof embeddingContentSchema>,
    options: z.output<typeof embeddingOptionsSchema> | undefined,
    backend: Backend,
  ): Json {
    return {
      content: { text: content.text, type: content.type ?? 'caption', metadata: content.metadata ?? {} },
      options: {
        embedding_type: options?.embeddingType ?? 'content',
        force_model: options?.forceModel,
        chunk_strategy: options?.chunkStrategy,
        backend,
      },
    };
  }

  private publish(
    type: TaskType,
    backend: Backend,
    delivery: TaskDelivery | undefined,
    kwargs: Json,
  ): Promise<Result> {
    const { eta, expires, ...ids } = delivered(delivery);
    const route = TASK_ROUTES[type][backend];
    return this.sink.publish(
      celeryRequest({
        exchange: this.exchange,
        routingKey: route.routingKey,
        taskName: route.taskName,
        kwargs,
        origin: this.origin,
        ...ids,
        eta: eta === undefined ? undefined : new Date(eta),
        expires: expires === undefined ? undefined : new Date(expires),
      }),
    );
  }
}

/** The ML task methods of the original service over a ferry producer. */
export class MlTasks extends MlTaskMethods<PublishReceipt> {
  /** @internal Use {@link createMlTasks}. */
  constructor(
    /** The producer tasks are published with. */
    readonly producer: Producer,
    options: MlTasksOptions = {},
  ) {
    super(producer, options);
  }

  /** The original `isHealthy()`: connected and the breaker not open. */
  isHealthy(): boolean {
    return this.producer.isHealthy();
  }

  /** The original `getStatus()`, on top of the producer's full status. */
  getStatus(): MlTaskStatus {
    const status = this.producer.status();
    return {
      ...status,
      connectionState: status.connection.phase,
      reconnectAttempts: status.connection.attempts,
      consecutiveFailures: status.circuitBreaker.consecutiveFailures,
      circuitBreakerOpen: status.circuitBreaker.isOpen,
      retryQueueSize: status.messages.retrying,
    };
  }
}

/**
 * The ML task layer over `producer`. The tasks go to the ML queues, which someone must declare: make
 * the producer with `createProducer(mlProducerOptions({ … }))` so that it declares the ML topology
 * (a producer of default options declares nothing).
 */
export function createMlTasks(producer: Producer, options: MlTasksOptions = {}): MlTasks {
  return new MlTasks(producer, options);
}
