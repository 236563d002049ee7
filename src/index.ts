/**
 * ferry: publish tasks to RabbitMQ so that no accepted task is ever lost.
 *
 * ```ts
 * import { createProducer } from 'ferry';
 * const producer = createProducer({ url: 'amqp://guest:guest@127.0.0.1:5672' });
 * await producer.start();
 * const receipt = await producer.publish({ exchange: 'bookmarkai.ml', routingKey: 'ml.summarize', body: { text: 'hi' } });
 * await receipt.settled; // 'confirmed' or 'dead-lettered'
 * await producer.close();
 * ```
 */

export { supervisorMachine } from '../machines/supervisor.machine.js';
export type {
  AmqpConnectOptions,
  BrokerPort,
  BrokerSession,
  Delivery,
  PublishProperties,
  SessionListener,
  TlsOptions,
} from './amqp/ports.js';
export { buildTopology, DEFAULT_TOPOLOGY, type Topology, type TopologyOptions } from './amqp/topology.js';
export {
  type ErrorCodeInfo,
  FERRY_ERROR_CODES,
  FerryError,
  type FerryErrorCode,
  type Severity,
} from './errors.js';
export {
  createJournal,
  type JournalConfig,
  parseJournalSpec,
} from './journal/create-journal.js';
export type { Journal, JournalEvent, JournalStatus, PendingMessage } from './journal/journal.js';
export { JournalError } from './journal/journal-error.js';
export { MemoryJournal } from './journal/memory-journal.js';
export { CONNECTION_STATE_VALUES } from './metrics/connection-state.js';
export {
  createProducerMetrics,
  type ProducerMetrics,
  type ProducerMetricsOptions,
} from './metrics/producer-metrics.js';
export { DEAD_LETTER_HEADERS } from './producer/dead-letter-headers.js';
export type { ProducerObserver } from './producer/observer.js';
export type { ProducerOptions } from './producer/options.js';
export {
  type CloseOptions,
  createProducer,
  type FlushOptions,
  Producer,
  type ProducerDependencies,
} from './producer/producer.js';
export type { JsonValue, PublishRequest } from './producer/publish-request.js';
export type { PublishReceipt, Settlement } from './producer/receipt.js';
export type { ProducerStatus, SupervisorSummary } from './producer/status.js';
export { type CeleryTask, celeryRequest } from './tasks/celery-message.js';
export { createMlTasks, type MlTaskStatus, MlTasks, type MlTasksOptions } from './tasks/ml-tasks.js';
export type {
  BatchEmbeddingEntry,
  EmbeddingContent,
  EmbeddingOptions,
  SummarizationContent,
  SummarizationOptions,
  TaskDelivery,
  TranscriptionOptions,
} from './tasks/task-schemas.js';
export {
  type Backend,
  DEFAULT_BACKENDS,
  type PreferredBackends,
  TASK_ROUTES,
  type TaskRoute,
  type TaskType,
} from './tasks/task-types.js';
