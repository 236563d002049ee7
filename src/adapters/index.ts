/**
 * `ferry/adapters`: the seams of the producer, for who replaces or reads them. The AMQP port (what
 * `createProducer(options, { broker })` takes; the amqplib adapter by default) and the journal: its
 * interface (what `{ journal }` takes) and its backends. The sqlite and Redis journals load their
 * drivers only when opened; install `better-sqlite3` or `ioredis` to use them.
 *
 * ```ts
 * import { createProducer } from 'ferry';
 * import { MemoryJournal } from 'ferry/adapters';
 * const producer = createProducer({}, { journal: new MemoryJournal() });
 * ```
 *
 * @packageDocumentation
 */
export { createAmqplibBroker } from '../amqp/amqplib-session.js';
export type {
  AmqpConnectOptions,
  BrokerPort,
  BrokerSession,
  ConfirmChannelPort,
  ConfirmLane,
  Delivery,
  LaneListener,
  PublishProperties,
  SessionListener,
  TlsOptions,
} from '../amqp/ports.js';
export { createJournal, parseJournalSpec } from '../journal/create-journal.js';
export type { Journal, JournalEvent, MessageRecord, PendingMessage } from '../journal/journal.js';
export type {
  BatchingOptions,
  Durability,
  JournalConfig,
  RedisJournalOptions,
  SqliteJournalOptions,
} from '../journal/journal-config.js';
export { JournalError, type JournalErrorCode } from '../journal/journal-error.js';
export { MemoryJournal } from '../journal/memory-journal.js';
export { RedisJournal } from '../journal/redis-journal.js';
export { SqliteJournal } from '../journal/sqlite-journal.js';
