/**
 * The caller's transaction from Drizzle (node-postgres driver), Knex or Kysely as a {@link Queryable},
 * so `enqueue()` writes inside it. Each adapter builds its statement with the library's own public
 * API (Drizzle's `sql` with `sql.param`, Knex's `raw`, Kysely's `CompiledQuery.raw`), loaded from the
 * application's installation on first use: ferry itself depends on none of them.
 *
 * ```ts
 * await db.transaction(async (tx) => {
 *   await tx.insert(shares).values({ id: shareId });
 *   await enqueue(fromDrizzle(tx), request);
 * });
 * ```
 */
import { FerryError } from '../errors.js';
import type { Queryable, QueryRows } from './queryable.js';

/** A Drizzle node-postgres database or transaction (`tx` in `db.transaction(async (tx) => …)`). */
export interface DrizzleExecutor {
  execute(query: never): PromiseLike<unknown>;
}

/** A Knex instance or transaction (`trx` in `knex.transaction(async (trx) => …)`). */
export interface KnexExecutor {
  raw(sql: string, bindings: readonly unknown[]): PromiseLike<unknown>;
}

/** A Kysely instance or transaction (`trx` in `db.transaction().execute(async (trx) => …)`). */
export interface KyselyExecutor {
  executeQuery(query: never): PromiseLike<unknown>;
}

interface DrizzleSql {
  sql: ((strings: TemplateStringsArray, ...params: unknown[]) => unknown) & {
    param(value: unknown): unknown;
  };
}

interface KyselyModule {
  CompiledQuery: { raw(sql: string, parameters: unknown[]): unknown };
}

/** The application's copy of `name`. */
async function peer<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    throw new FerryError(
      'INVALID_OPTIONS',
      `this adapter needs the '${name}' package, which is not installed`,
      {
        cause: error,
      },
    );
  }
}

/** The rows of a result, whatever library returned it. */
function rowsOf(result: unknown, library: string): QueryRows {
  const rows = (result as { rows?: unknown } | null)?.rows;
  if (!Array.isArray(rows)) {
    throw new FerryError(
      'INVALID_OPTIONS',
      `${library} returned no rows: is it on the node-postgres driver?`,
    );
  }
  return { rows };
}

/** `$1, $2, …` split out of `text`, in order: the pieces between them and the parameter numbers. */
function splitPlaceholders(text: string): { pieces: string[]; order: number[] } {
  const pieces: string[] = [];
  const order: number[] = [];
  let last = 0;
  for (const match of text.matchAll(/\$(\d+)/g)) {
    pieces.push(text.slice(last, match.index));
    order.push(Number(match[1]) - 1);
    last = match.index + match[0].length;
  }
  pieces.push(text.slice(last));
  return { pieces, order };
}

/** Drizzle's transaction (node-postgres driver) as a {@link Queryable}. */
export function fromDrizzle(tx: DrizzleExecutor): Queryable {
  return {
    async query(text, values = []) {
      const { sql } = await peer<DrizzleSql>('drizzle-orm');
      const { pieces, order } = splitPlaceholders(text);
      const strings = Object.assign([...pieces], { raw: pieces });
      // `sql.param` keeps an array one parameter; a bare array would be expanded into a list.
      const statement = sql(strings, ...order.map((index) => sql.param(values[index])));
      return rowsOf(await tx.execute(statement as never), 'drizzle');
    },
  };
}

/** Knex's transaction as a {@link Queryable}. */
export function fromKnex(trx: KnexExecutor): Queryable {
  return {
    async query(text, values = []) {
      const { pieces, order } = splitPlaceholders(text);
      const sql = pieces.join('?');
      return rowsOf(
        await trx.raw(
          sql,
          order.map((index) => values[index]),
        ),
        'knex',
      );
    },
  };
}

/** Kysely's transaction as a {@link Queryable}. */
export function fromKysely(trx: KyselyExecutor): Queryable {
  return {
    async query(text, values = []) {
      const { CompiledQuery } = await peer<KyselyModule>('kysely');
      return rowsOf(await trx.executeQuery(CompiledQuery.raw(text, values) as never), 'kysely');
    },
  };
}
