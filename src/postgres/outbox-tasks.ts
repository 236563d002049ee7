/**
 * The ML task methods against a transaction: the same validation, routing and Celery encoding as
 * `createMlTasks(producer)`, each task written into the outbox instead of published, and each method
 * resolving with the task id (also the message id and Celery's `id` header).
 *
 * ```ts
 * await client.query('BEGIN');
 * await client.query('INSERT INTO shares (id, text) VALUES ($1, $2)', [shareId, text]);
 * const taskId = await outboxTasks(client).publishEmbeddingTask(shareId, { text });
 * await client.query('COMMIT');
 * ```
 */
import { MlTaskMethods, type MlTasksOptions } from '../tasks/ml-tasks.js';
import { type EnqueueOptions, enqueue } from './enqueue.js';
import type { Queryable } from './queryable.js';

/** Options of {@link outboxTasks}: the task layer's and the outbox's. */
export type OutboxTasksOptions = MlTasksOptions & EnqueueOptions;

/**
 * The ML task methods writing through `db` (a node-postgres client in a transaction, or an adapter's
 * result). Cheap to create: make one per transaction.
 */
export function outboxTasks(db: Queryable, options: OutboxTasksOptions = {}): MlTaskMethods<string> {
  return new MlTaskMethods({ publish: (request) => enqueue(db, request, options) }, options);
}
