/**
 * Helpers for the integration tests against the shared broker on 127.0.0.1:5672: throwaway names,
 * rabbitmqctl and a recording session listener. The TCP proxy that stalls or hangs up is
 * test/faults/support/fault-proxy.ts.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import type { AmqpConnectOptions, SessionListener } from '../../src/amqp/ports.js';
import type { FerryError } from '../../src/errors.js';

export const BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** A name no other test uses; everything created with it is deleted by the test that made it. */
export function uniqueName(what: string): string {
  return `ferry-test-${what}-${randomBytes(4).toString('hex')}`;
}

/** Connect options for one test, with its own connection name. */
export function connectOptions(overrides: Partial<AmqpConnectOptions> = {}): AmqpConnectOptions {
  return {
    urls: [BROKER_URL],
    heartbeatSeconds: 10,
    connectionTimeoutMs: 5_000,
    clientName: uniqueName('conn'),
    ...overrides,
  };
}

export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('rabbitmqctl', ['-q', ...args]);
  return stdout;
}

/** Closes only the connection with this `connection_name`, as an operator would. */
export async function closeConnectionNamed(connectionName: string, reason: string): Promise<void> {
  const rows = (await rabbitmqctl('list_connections', 'pid', 'client_properties')).split('\n');
  const row = rows.find((line) => line.includes(`{"connection_name","${connectionName}"}`));
  if (row === undefined) throw new Error(`no connection named ${connectionName}`);
  await rabbitmqctl('close_connection', row.split('\t')[0]!, reason);
}

/** Deletes throwaway exchanges and queues through a connection of the test's own. */
export async function deleteObjects(names: { exchanges?: string[]; queues?: string[] }): Promise<void> {
  const connection = await amqplib.connect(BROKER_URL);
  try {
    const channel = await connection.createChannel();
    for (const queue of names.queues ?? []) await channel.deleteQueue(queue);
    for (const exchange of names.exchanges ?? []) await channel.deleteExchange(exchange);
  } finally {
    await connection.close();
  }
}

/** Messages ready in a queue, read passively. */
export async function messageCount(queue: string): Promise<number> {
  const connection = await amqplib.connect(BROKER_URL);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}

export type SessionEvent =
  | { readonly type: 'ack'; readonly tag: number; readonly multiple: boolean }
  | { readonly type: 'nack'; readonly tag: number; readonly multiple: boolean }
  | { readonly type: 'returned'; readonly messageId: string | undefined; readonly replyCode: number }
  | { readonly type: 'drain' }
  | { readonly type: 'unblocked' }
  | { readonly type: 'blocked'; readonly reason: string }
  | { readonly type: 'channelClosed'; readonly error: FerryError }
  | { readonly type: 'connectionClosed'; readonly error: FerryError };

/** A session listener that records every event and lets a test wait for a condition on them. */
export class Recorder implements SessionListener {
  readonly events: SessionEvent[] = [];
  private waiters: (() => void)[] = [];

  ack(tag: number, multiple: boolean): void {
    this.push({ type: 'ack', tag, multiple });
  }
  nack(tag: number, multiple: boolean): void {
    this.push({ type: 'nack', tag, multiple });
  }
  returned(messageId: string | undefined, replyCode: number): void {
    this.push({ type: 'returned', messageId, replyCode });
  }
  drain(): void {
    this.push({ type: 'drain' });
  }
  blocked(reason: string): void {
    this.push({ type: 'blocked', reason });
  }
  unblocked(): void {
    this.push({ type: 'unblocked' });
  }
  channelClosed(error: FerryError): void {
    this.push({ type: 'channelClosed', error });
  }
  connectionClosed(error: FerryError): void {
    this.push({ type: 'connectionClosed', error });
  }

  /** Resolves with the first event matching `predicate`, past or future; rejects after `timeoutMs`. */
  next<T extends SessionEvent['type']>(
    type: T,
    timeoutMs = 10_000,
  ): Promise<Extract<SessionEvent, { type: T }>> {
    return this.until(() => this.events.find((event) => event.type === type), timeoutMs, type) as Promise<
      Extract<SessionEvent, { type: T }>
    >;
  }

  /** Resolves when `check` returns something other than undefined, re-checked on every event. */
  until<R>(check: () => R | undefined, timeoutMs = 10_000, what = 'condition'): Promise<R> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== attempt);
        reject(
          new Error(
            `timed out waiting for ${what}; events: ${JSON.stringify(this.events.map((e) => e.type))}`,
          ),
        );
      }, timeoutMs);
      const attempt = () => {
        const result = check();
        if (result === undefined) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== attempt);
        resolve(result);
      };
      this.waiters.push(attempt);
      attempt();
    });
  }

  private push(event: SessionEvent): void {
    this.events.push(event);
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Polls `check` until it holds or the deadline passes: for state no event announces (sockets, other processes). */
export async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
