/**
 * What ferry needs of a PostgreSQL connection, as plain structural types: node-postgres's `Client`,
 * `PoolClient` and `Pool` fit them as they are, and the Drizzle, Knex and Kysely adapters produce them.
 * Declared here instead of imported from `pg` so that using `ferry/postgres` needs no `@types/pg`.
 */

/** The rows of one statement. */
export interface QueryRows {
  readonly rows: readonly Record<string, unknown>[];
  readonly rowCount?: number | null;
}

/** Anything that runs one parameterised statement (`$1`, `$2`, …) on one connection or pool. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<QueryRows>;
}

/** A notification received on a `LISTEN`ing connection. */
export interface PgNotification {
  readonly channel: string;
  readonly payload?: string | undefined;
}

/** One connection taken from a pool (node-postgres's `PoolClient`). */
export interface PgPoolClient extends Queryable {
  release(destroy?: boolean | Error): void;
  on(event: 'notification', listener: (message: PgNotification) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * A statement that each connection running it keeps parsed under `name` (node-postgres's query
 * config): for a relay's own statements that run many times a second, where parsing and planning
 * the text anew each time was most of what PostgreSQL spent on them.
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
  readonly values: unknown[];
}

/** A pool of connections (node-postgres's `Pool`). */
export interface PgPool extends Queryable {
  query(statement: NamedStatement): Promise<QueryRows>;
  query(text: string, values?: unknown[]): Promise<QueryRows>;
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}
