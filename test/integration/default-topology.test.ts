/**
 * What a producer declares in a vhost of its own on the real broker: with the library's default
 * options nothing at all (not the ML topology), and a message nothing routes is parked for the missing
 * dead-letter exchange with `status()` unhealthy, not lost and not called healthy; the service's
 * configuration and `mlProducerOptions()` declare the whole ML topology.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEAD_LETTER_EXCHANGE, ML_TOPOLOGY } from '../../src/amqp/topology.js';
import { loadServiceConfig } from '../../src/service/config.js';
import { mlProducerOptions } from '../../src/tasks/ml-producer-options.js';
import { createVhost } from '../celery/support.js';
import { message, statusWhere, testProducer } from './support/producer.js';

const run = promisify(execFile);
const env = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };

type Vhost = Awaited<ReturnType<typeof createVhost>>;
let library: Vhost;
let ml: Vhost;

beforeAll(async () => {
  [library, ml] = await Promise.all([createVhost(), createVhost()]);
}, 30_000);
afterAll(async () => {
  await Promise.all([library?.remove(), ml?.remove()]);
});

/** The names of `vhost`'s exchanges or queues, as the broker lists them. */
async function listed(kind: 'exchanges' | 'queues', vhost: Vhost): Promise<string[]> {
  const { stdout } = await run('rabbitmqctl', ['-q', `list_${kind}`, '-p', vhost.name, 'name'], { env });
  // The first line is the column header.
  return stdout.split('\n').slice(1).filter(Boolean).sort();
}

const mlExchanges = ML_TOPOLOGY.exchanges.map((exchange) => exchange.name);
const mlQueues = ML_TOPOLOGY.queues.map((queue) => queue.name);

it('a producer of default options declares nothing, and parks what it cannot dead-letter, unhealthy', async () => {
  const exchangesBefore = await listed('exchanges', library);
  const producer = testProducer({ connection: { url: library.url }, retry: { maxAttempts: 2 } });
  await producer.start();
  // `amq.topic` is in every vhost; nothing is bound to it, so the message is returned, retried, and
  // handed to the dead-letter exchange, which nothing declared.
  const receipt = await producer.publish(message('amq.topic', 'nothing.bound', 'default-topology', 1));
  const parked = await statusWhere(producer, (status) => status.messages.parked === 1, 'a parked message');
  expect(parked.healthy).toBe(false);
  // The 404 that closed the hand-off's channel names the exchange that is missing.
  expect(parked.messages.parkedReason?.message).toContain(`no exchange '${DEAD_LETTER_EXCHANGE}'`);
  expect(parked.messages).toMatchObject({ deadLettered: 0, journalPending: 1 });
  // Never settled as delivered: the memory journal's close counts it as dropped and says so.
  const settled = receipt.settled.catch((error: unknown) => error);
  await expect(producer.close({ timeoutMs: 0 })).resolves.toEqual({ dropped: 1 });
  await expect(settled).resolves.toMatchObject({ code: 'CLOSED' });

  expect(await listed('exchanges', library)).toEqual(exchangesBefore);
  expect(await listed('queues', library)).toEqual([]);
}, 30_000);

it("the service's configuration declares the whole ML topology", async () => {
  const loaded = loadServiceConfig({ RABBITMQ_URL: library.url, FERRY_JOURNAL: 'memory' });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  await testProducer(loaded.config.producer).start();
  expect(await listed('exchanges', library)).toEqual(expect.arrayContaining(mlExchanges));
  expect(await listed('queues', library)).toEqual([...mlQueues].sort());
}, 30_000);

it('mlProducerOptions() declares the whole ML topology', async () => {
  await testProducer(mlProducerOptions({ connection: { url: ml.url } })).start();
  expect(await listed('exchanges', ml)).toEqual(expect.arrayContaining(mlExchanges));
  expect(await listed('queues', ml)).toEqual([...mlQueues].sort());
}, 30_000);
