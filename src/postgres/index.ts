/**
 * `ferry/postgres`: the transactional outbox. A task is written in the same PostgreSQL transaction as
 * the application's own rows; once that commits, ferry owns it, and a relay (a producer with
 * `journal: { kind: 'postgres' }`) publishes it with everything ferry does. See docs/outbox.md.
 *
 * ```ts
 * import { enqueue } from 'ferry/postgres';
 * const client = await pool.connect();
 * await client.query('BEGIN');
 * await client.query('INSERT INTO shares (id, url) VALUES ($1, $2)', [shareId, url]);
 * const messageId = await enqueue(client, { exchange: 'bookmarkai.ml', routingKey: 'ml.embed', body });
 * await client.query('COMMIT');
 * ```
 */
export { PostgresJournal, type PostgresJournalOptions } from '../journal/postgres-journal.js';
export {
  type DrizzleExecutor,
  fromDrizzle,
  fromKnex,
  fromKysely,
  type KnexExecutor,
  type KyselyExecutor,
} from './adapters.js';
export { type EnqueueOptions, enqueue, enqueueMany } from './enqueue.js';
export { type Migration, type MigrationResult, migrationSql, OUTBOX_SCHEMA_VERSION } from './migrations.js';
export { DEFAULT_OUTBOX_SCHEMA } from './outbox-schema.js';
export { type OutboxTasksOptions, outboxTasks } from './outbox-tasks.js';
export type { PgNotification, PgPool, PgPoolClient, Queryable, QueryRows } from './queryable.js';
