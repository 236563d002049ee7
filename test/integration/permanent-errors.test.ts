/**
 * Errors that retrying cannot fix (bad credentials, no access to the vhost) reject `start()` with their
 * code, leave the connection `failed` (unhealthy, alerting), and keep trying only at the maximum
 * reconnect delay: no hot loop. The reconnect policy below retries a transient failure every 20 ms, so
 * a permanent one handled like a transient one would show up as dozens of attempts.
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import type { Producer } from '../../src/producer/producer.js';
import { statusWhere, testProducer } from './support/producer.js';

const run = promisify(execFile);
const vhost = `ferry-test-noaccess-${randomBytes(4).toString('hex')}`;
/** Transient failures every 20 ms; permanent ones every 2 s (the maximum delay). */
const RECONNECT = { initialDelayMs: 20, maxDelayMs: 2_000, multiplier: 1, jitterFactor: 0 } as const;
const WATCH_MS = 3_000;

beforeAll(async () => {
  // Creating a vhost does not disturb the shared broker; guest gets no permissions on it.
  await run('rabbitmqctl', ['add_vhost', vhost]);
}, 30_000);

afterAll(async () => {
  await run('rabbitmqctl', ['delete_vhost', vhost]).catch(() => undefined);
}, 30_000);

async function startFailure(producer: Producer): Promise<FerryError> {
  const error = await producer.start().then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(FerryError);
  return error as FerryError;
}

/** Watches the connection for {@link WATCH_MS}: an observation window, failing early on a hot loop. */
async function attemptsWhileWatching(producer: Producer): Promise<number> {
  const until = Date.now() + WATCH_MS;
  const status = await statusWhere(
    producer,
    (current) => current.connection.attempts > 3 || Date.now() > until,
    `${WATCH_MS} ms of failed connects`,
    WATCH_MS + 5_000,
  );
  return status.connection.attempts;
}

it('bad credentials: start() rejects ACCESS_REFUSED, the connection is failed, and retries stay slow', async () => {
  const producer = testProducer({
    connection: { url: 'amqp://guest:not-the-password@127.0.0.1:5672', reconnect: RECONNECT },
    topology: { declare: false },
  });
  const error = await startFailure(producer);
  expect(error).toMatchObject({ code: 'ACCESS_REFUSED', permanent: true });
  expect(error.message).not.toContain('not-the-password');
  const status = producer.status();
  expect(status.connection.phase).toBe('failed');
  expect(status.healthy).toBe(false);
  expect(status.connection.lastError?.code).toBe('ACCESS_REFUSED');
  const attempts = await attemptsWhileWatching(producer);
  expect(attempts).toBeLessThanOrEqual(3);
  expect(producer.status().healthy).toBe(false);
  // Accepting goes on while failed: nothing is refused, it waits for a connection.
  const receipt = await producer.publish({ exchange: 'amq.topic', routingKey: 'x', body: { n: 1 } });
  expect(receipt.messageId).toEqual(expect.any(String));
  expect(producer.status().messages.buffered).toBe(1);
}, 30_000);

it('no access to the vhost: start() rejects NOT_ALLOWED and retries stay slow', async () => {
  const producer = testProducer({
    connection: { url: `amqp://guest:guest@127.0.0.1:5672/${vhost}`, reconnect: RECONNECT },
    topology: { declare: false },
  });
  const error = await startFailure(producer);
  expect(error).toMatchObject({ code: 'NOT_ALLOWED', permanent: true });
  expect(producer.status().connection).toMatchObject({ phase: 'failed', lastError: { code: 'NOT_ALLOWED' } });
  expect(await attemptsWhileWatching(producer)).toBeLessThanOrEqual(3);
}, 30_000);
