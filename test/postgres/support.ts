/**
 * Helpers of the outbox tests: a database of the test's own on the shared PostgreSQL (dropped after),
 * a consumer that collects what reaches a queue, and waits that fail at a deadline.
 */
import { randomBytes } from 'node:crypto';
import amqplib, { type ConsumeMessage } from 'amqplib';
import pg from 'pg';
import type { NamedStatement, PgPool, QueryRows } from '../../src/postgres/queryable.js';

/** The shared PostgreSQL: trust auth, user postgres. */
export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database made for one test. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** A pool on it for the test's own statements; ended by {@link TestDatabase.drop}. */
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

/** Creates a fresh database on the server `adminUrl` points at. */
export async function createTestDatabase(label: string, adminUrl = PG_ADMIN_URL): Promise<TestDatabase> {
  const name = `ferry_t_${label}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  return {
    name,
    url,
    pool,
    drop: async () => {
      await pool.end().catch(() => undefined);
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Polls `check` every 20 ms until it holds; fails after `timeoutMs` naming `what`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Everything delivered to one queue while it runs, counted by message id. */
export class QueueCollector {
  readonly deliveries: ConsumeMessage[] = [];
  readonly counts = new Map<string, number>();

  private constructor(private readonly connection: amqplib.ChannelModel) {}

  /** Starts consuming `queue` (which must exist) on `url`. */
  static async start(url: string, queue: string): Promise<QueueCollector> {
    const connection = await amqplib.connect(url);
    const collector = new QueueCollector(connection);
    const channel = await connection.createChannel();
    await channel.consume(
      queue,
      (message) => {
        if (message === null) return;
        collector.deliveries.push(message);
        const id = String(message.properties.messageId);
        collector.counts.set(id, (collector.counts.get(id) ?? 0) + 1);
      },
      { noAck: true },
    );
    return collector;
  }

  /** Whether every id in `ids` has arrived. */
  has(ids: Iterable<string>): boolean {
    for (const id of ids) if (!this.counts.has(id)) return false;
    return true;
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}

/** `n` JSON messages for `queue` through the default exchange, with ids `<run>-<i>`. */
export function requests(queue: string, run: string, n: number, from = 0) {
  return Array.from({ length: n }, (_, i) => ({
    exchange: '',
    routingKey: queue,
    messageId: `${run}-${from + i}`,
    body: { run, n: from + i },
  }));
}

/**
 * `pool` as ferry's `PgPool`, with every statement (on the pool or on a client taken from it) passed
 * through `around`, which runs it with `run()` (and sees its parameters, and the name it is prepared
 * under if it is a named statement): a test watches, counts or holds back the relay's statements by
 * their text. The pool itself is the test's to end.
 */
export function interceptedPool(
  pool: pg.Pool,
  around: (
    text: string,
    run: () => Promise<QueryRows>,
    values?: unknown[],
    name?: string,
  ) => Promise<QueryRows>,
): PgPool {
  return {
    query: (statement: string | NamedStatement, values?: unknown[]) =>
      typeof statement === 'string'
        ? around(statement, () => pool.query(statement, values), values)
        : around(statement.text, () => pool.query(statement), statement.values, statement.name),
    connect: async () => {
      const client = await pool.connect();
      return {
        query: (text: string, values?: unknown[]) => around(text, () => client.query(text, values), values),
        release: (destroy?: boolean | Error) => client.release(destroy),
        on: client.on.bind(client),
        off: client.off.bind(client),
      };
    },
    end: async () => undefined,
    on: () => undefined,
  };
}
