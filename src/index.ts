/**
 * ferry: publish tasks to RabbitMQ so that no accepted task is ever lost.
 *
 * This entry point holds what a library user names in their own code: `createProducer`, its options,
 * what the producer hands back (receipts, status, events) and the errors. The rest has entry points of
 * its own: `ferry/adapters` (the AMQP port and the journal backends), `ferry/tasks` (the ML tasks as
 * Celery messages), `ferry/metrics` (Prometheus), `ferry/inspector` (the Stately inspector),
 * `ferry/xstate` (the producer as an actor in your XState system), `ferry/testing` and `ferry/nestjs`.
 *
 * ```ts
 * import { createProducer } from 'ferry';
 * const producer = createProducer({ connection: { url: 'amqp://guest:guest@127.0.0.1:5672' } });
 * await producer.start();
 * const receipt = await producer.publish({ exchange: 'bookmarkai.ml', routingKey: 'ml.summarize', body: { text: 'hi' } });
 * await receipt.settled; // 'confirmed' or 'dead-lettered'
 * await producer.close();
 * ```
 *
 * @packageDocumentation
 */

export type { BreakerPhase, ConnectionPhase } from '../machines/phases.js';
export type { SettleOutcome } from './amqp/confirm-tracker.js';
export { buildTopology, type Topology } from './amqp/topology.js';
export {
  FERRY_ERROR_CODES,
  FerryError,
  type FerryErrorCode,
  type Severity,
} from './errors.js';
export type { ActorSystemInspector } from './inspector/inspection.js';
export type { JournalStatus } from './journal/journal.js';
export type { JournalConfig } from './journal/journal-config.js';
export { DEAD_LETTER_HEADERS } from './producer/dead-letter-headers.js';
export type { ProducerObserver } from './producer/observer.js';
export {
  type CloseOptions,
  type CloseResult,
  createProducer,
  type FlushOptions,
  Producer,
  type ProducerDependencies,
} from './producer/producer.js';
export type { MessageFacts, ProducerEvent } from './producer/producer-event.js';
export type { ProducerOptions } from './producer/producer-options.js';
export type { JsonValue, PublishRequest } from './producer/publish-request.js';
export type { PublishReceipt, Settlement } from './producer/receipt.js';
export type { FailureSummary, ProducerStatus, SupervisorSummary } from './producer/status.js';
