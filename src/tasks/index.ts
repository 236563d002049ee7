/**
 * `ferry/tasks`: the ML tasks (summarize, transcribe, embed) as Celery protocol 2 messages, validated,
 * on the ML topology that the ML workers consume. `createProducer` declares nothing by default;
 * `mlProducerOptions` asks for the ML topology.
 *
 * ```ts
 * import { createProducer } from 'ferry';
 * import { createMlTasks, mlProducerOptions } from 'ferry/tasks';
 * const producer = createProducer(mlProducerOptions({ connection: { url: 'amqp://127.0.0.1' } }));
 * const tasks = createMlTasks(producer);
 * ```
 *
 * @packageDocumentation
 */
export { ML_TOPOLOGY, type TopologyOptions } from '../amqp/topology.js';
export { type CeleryTask, celeryRequest } from './celery-message.js';
export { mlProducerOptions } from './ml-producer-options.js';
export { createMlTasks, type MlTaskStatus, MlTasks, type MlTasksOptions } from './ml-tasks.js';
export type {
  BatchEmbeddingEntry,
  EmbeddingContent,
  EmbeddingOptions,
  SummarizationContent,
  SummarizationOptions,
  TaskDelivery,
  TranscriptionOptions,
} from './task-schemas.js';
export {
  type Backend,
  DEFAULT_BACKENDS,
  type PreferredBackends,
  TASK_ROUTES,
  type TaskRoute,
  type TaskType,
} from './task-types.js';
