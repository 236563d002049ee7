import { expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { eventually, rejection, rig, task } from './helpers.js';

it('a permanent connect error fails start() at once and is retried only at the max delay', async () => {
  const { producer, broker } = rig({
    connection: { reconnect: { initialDelayMs: 5, maxDelayMs: 150, jitter: 'none' } },
  });
  broker.refuse = new FerryError(
    'ACCESS_REFUSED',
    'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN',
  );

  const error = await rejection(producer.start());
  expect(error.code).toBe('ACCESS_REFUSED');
  expect(broker.connectAttempts).toBe(1);
  expect(producer.status().connection).toMatchObject({
    phase: 'failed',
    connected: false,
    lastError: { code: 'ACCESS_REFUSED' },
  });
  expect(producer.isHealthy()).toBe(false);

  // Over 400 ms, with an initial delay of 5 ms a hot loop would make dozens of attempts (and plain
  // exponential backoff about six); at the 150 ms max delay there is room for two.
  const failedAt = Date.now();
  await eventually(() => Date.now() - failedAt >= 400, '400 ms to pass', 1_000);
  expect(broker.connectAttempts).toBeGreaterThanOrEqual(2);
  expect(broker.connectAttempts).toBeLessThanOrEqual(3);
  expect(producer.status().connection.phase).toBe('failed');

  // It still accepts, and delivers once the credentials are fixed.
  const receipt = await producer.publish(task(1));
  broker.refuse = null;
  await eventually(() => broker.sessions.length === 1 && broker.session.published.length === 1, 'delivery');
  broker.session.ackAll();
  await expect(receipt.settled).resolves.toBe('confirmed');
  expect(producer.status().connection.phase).toBe('connected');
});

it('start() rejects with NOT_ALLOWED for a vhost without access', async () => {
  const { producer, broker } = rig();
  broker.refuse = new FerryError('NOT_ALLOWED', 'no access to this vhost');
  expect((await rejection(producer.start())).code).toBe('NOT_ALLOWED');
});
