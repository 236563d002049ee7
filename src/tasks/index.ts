/**
 * `ferry/tasks`: the ML tasks (summarize, transcribe, embed) as Celery protocol 2 messages, validated,
 * on the ML topology that the ML workers consume.
 *
 * ```ts
 * import { createProducer } from 'ferry';
 * import { createMlTasks, DEFAULT_TOPOLOGY } from 'ferry/tasks';
 * const producer = createProducer({ topology: { declare: DEFAULT_TOPOLOGY } });
 * const tasks = createMlTasks(producer);
 * ```
 *
 * @packageDocumentation
 */
export { DEFAULT_TOPOLOGY, type TopologyOptions } from '../amqp/topology.js';
export { type CeleryTask, celeryRequest } from './celery-message.js';
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
