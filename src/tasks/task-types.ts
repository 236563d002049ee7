/**
 * The ML task types and where each goes: the routing key (its queue) and the Celery task name the
 * workers register, by backend. These names are the workers' contract: change them only with theirs.
 */
import { ML_EXCHANGE } from '../amqp/topology.js';

/** Where a task is processed: a hosted API or a model on the worker's machine. */
export type Backend = 'api' | 'local';

/** The backends a task layer picks when a call does not name one. */
export interface PreferredBackends {
  /** `PREFERRED_LLM_BACKEND`: summarization. */
  readonly llm: Backend;
  /** `PREFERRED_STT`: transcription. */
  readonly stt: Backend;
  /** `PREFERRED_EMBEDDING_BACKEND`: embeddings. */
  readonly embedding: Backend;
}

/** Every backend `api` when nothing is configured: the hosted backends need no local worker. */
export const DEFAULT_BACKENDS: PreferredBackends = { llm: 'api', stt: 'api', embedding: 'api' };

/** A task's destination: the routing key on {@link ML_EXCHANGE} and the Celery task name. */
export interface TaskRoute {
  readonly routingKey: string;
  readonly taskName: string;
}

/** The ML task types the workers take, plus the batch of embeddings. */
export type TaskType = 'summarize_llm' | 'transcribe_whisper' | 'embed_vectors' | 'embed_vectors_batch';

/** Every task type's route per backend; embeddings have one queue whatever the backend. */
export const TASK_ROUTES: Readonly<Record<TaskType, Readonly<Record<Backend, TaskRoute>>>> = {
  summarize_llm: {
    api: { routingKey: 'ml.summarize', taskName: 'llm_service.tasks.summarize_content' },
    local: { routingKey: 'ml.summarize_local', taskName: 'llm_service.tasks.summarize_content_local' },
  },
  transcribe_whisper: {
    api: { routingKey: 'ml.transcribe', taskName: 'whisper.tasks.transcribe_api' },
    local: { routingKey: 'ml.transcribe_local', taskName: 'whisper.tasks.transcribe_local' },
  },
  embed_vectors: {
    api: { routingKey: 'ml.embed', taskName: 'vector_service.tasks.generate_embeddings' },
    local: { routingKey: 'ml.embed', taskName: 'vector_service.tasks.generate_embeddings' },
  },
  embed_vectors_batch: {
    api: { routingKey: 'ml.embed', taskName: 'vector_service.tasks.generate_embeddings_batch' },
    local: { routingKey: 'ml.embed', taskName: 'vector_service.tasks.generate_embeddings_batch' },
  },
};

/** The exchange every ML task is published to. */
export const TASK_EXCHANGE = ML_EXCHANGE;
