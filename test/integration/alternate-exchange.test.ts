/**
 * The `unroutable` option against the real broker: a policy names an alternate exchange on the task
 * exchange (the workers declare it without arguments, so a policy is the only way), ferry proves the
 * link with a probe, publishes without `mandatory`, and takes back what the alternate exchange caught:
 * retried (each catch uses up an attempt), then dead-lettered, or delivered once the topology is declared
 * again.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createAmqplibBroker } from '../../src/amqp/amqplib-session.js';
import type { BrokerPort } from '../../src/amqp/ports.js';
import { withAlternateExchange } from '../../src/amqp/topology.js';
import type { ProducerOptions } from '../../src/producer/options.js';
import { createProducer, type Producer } from '../../src/producer/producer.js';
import type { PublishRequest } from '../../src/producer/publish-request.js';
import { drainQueue, report, score } from '../faults/support/scorer.js';
import { mergeOptions } from '../support/merge-options.js';
import { deleteTopology, SHARED_BROKER_URL, uniqueTopology, withChannel } from './support/broker-objects.js';
import { expectDeadLetter } from './support/dead-letters.js';
import { FAST_OPTIONS, message, statusWhere } from './support/producer.js';

const names = uniqueTopology('alternate-exchange');
const unroutable = { alternateExchange: `${names.exchange}.ae`, queue: `${names.exchange}.unroutable` };
const policy = `${names.exchange}-ae`;
const MAX_ATTEMPTS = 2;
const SLOW_RETRIES: ProducerOptions = { retry: { maxAttempts: 6, initialDelayMs: 100, maxDelayMs: 1_000 } };
const run = promisify(execFile);

beforeAll(async () => {
  await run(
    'rabbitmqctl',
    [
      'set_policy',
      '--apply-to',
      'exchanges',
      policy,
      `^${names.exchange.replaceAll('.', '\\.')}$`,
      JSON.stringify({ 'alternate-exchange': unroutable.alternateExchange }),
    ],
    { timeout: 60_000 },
  );
}, 90_000);

afterAll(async () => {
  await run('rabbitmqctl', ['clear_policy', policy], { timeout: 60_000 }).catch(() => undefined);
  await deleteTopology(SHARED_BROKER_URL, names);
  await withChannel(SHARED_BROKER_URL, async (channel) => {
    await channel.deleteQueue(unroutable.queue);
    await channel.deleteExchange(unroutable.alternateExchange);
  });
}, 90_000);

/** The amqplib port, recording whether each publish on the confirm channel was `mandatory`. */
function recordingBroker(mandatory: Map<string, boolean[]>): BrokerPort {
  const inner = createAmqplibBroker();
  return {
    async connect(options, signal) {
      const session = await inner.connect(options, signal);
      const publish = session.publish.bind(session);
      session.publish = (exchange, routingKey, content, properties, isMandatory) => {
        const id = properties.messageId ?? '';
        mandatory.set(id, [...(mandatory.get(id) ?? []), isMandatory]);
        return publish(exchange, routingKey, content, properties, isMandatory);
      };
      return session;
    },
  };
}

const made: Producer[] = [];
afterEach(async () => {
  for (const producer of made.splice(0)) await producer.close({ timeoutMs: 0 });
});

function producerFor(mandatory: Map<string, boolean[]>, options: ProducerOptions = {}): Producer {
  const producer = createProducer(
    mergeOptions(
      FAST_OPTIONS,
      names.producerOptions,
      {
        topology: { declare: withAlternateExchange(names.topology, unroutable), unroutable },
        retry: { maxAttempts: MAX_ATTEMPTS },
      },
      options,
    ),
    { broker: recordingBroker(mandatory) },
  );
  made.push(producer);
  return producer;
}

/** Publishes routable messages one batch at a time until one went without `mandatory`. */
async function untilProven(
  producer: Producer,
  mandatory: Map<string, boolean[]>,
  label = 'warm-up',
): Promise<string[]> {
  const ids: string[] = [];
  const deadline = Date.now() + 10_000;
  for (let n = 0; Date.now() < deadline; n += 1) {
    const request = message(names.exchange, names.queue, label, n);
    await (await producer.publish(request)).settled;
    ids.push(request.messageId as string);
    if (mandatory.get(request.messageId as string)?.[0] === false) return ids;
  }
  throw new Error('no publish went without mandatory within 10 s');
}

it('catches unroutable messages published without mandatory, retries them, then dead-letters them', async () => {
  const mandatory = new Map<string, boolean[]>();
  const producer = producerFor(mandatory);
  await producer.start();
  const warmUp = await untilProven(producer, mandatory);

  const routable = Array.from({ length: 200 }, (_, n) => message(names.exchange, names.queue, 'routed', n));
  const lost: PublishRequest[] = Array.from({ length: 5 }, (_, n) =>
    message(names.exchange, 'no.queue.bound', 'unroutable', n),
  );
  const receipts = await producer.publishMany([...routable.slice(0, 100), ...lost, ...routable.slice(100)]);
  await Promise.all(receipts.map((receipt) => receipt.settled));
  const lostIds = lost.map((request) => request.messageId as string);
  await statusWhere(producer, (status) => status.messages.deadLettered === lost.length, 'the dead-letters');
  // Each went out without mandatory, was caught, came back as a retry with mandatory, and was returned.
  for (const id of lostIds) expect(mandatory.get(id)).toEqual([false, true, true]);
  // Caught once as first sent, once more as retried: each catch used up an attempt.
  expect(producer.status().messages).toMatchObject({
    unroutable: lost.length * MAX_ATTEMPTS,
    journalPending: 0,
  });
  await producer.close();

  const deadLetters = await drainQueue(SHARED_BROKER_URL, names.deadLetterQueue);
  expect(deadLetters.map((delivery) => delivery.properties.messageId).sort()).toEqual([...lostIds].sort());
  expectDeadLetter(deadLetters[0], {
    reason: 'RETURNED',
    attempts: MAX_ATTEMPTS,
    request: lost.find((request) => request.messageId === deadLetters[0]?.properties.messageId)!,
  });
  expect(await drainQueue(SHARED_BROKER_URL, unroutable.queue)).toEqual([]);
  const verdict = score(
    [...warmUp, ...routable.map((request) => request.messageId as string), ...lostIds],
    await drainQueue(SHARED_BROKER_URL, names.queue),
    { deadLetters },
  );
  report('alternate exchange: unroutable', verdict);
  expect(verdict).toMatchObject({ deadLettered: lost.length, lost: 0, duplicated: 0, unexpected: 0 });
}, 60_000);

it('a binding removed mid-stream: caught messages are delivered once the topology is declared again', async () => {
  const mandatory = new Map<string, boolean[]>();
  // Retries spread over seconds, as by default: re-declaring takes the broker a moment under load.
  const producer = producerFor(mandatory, SLOW_RETRIES);
  // A second producer consumes the same unroutable queue: each must still see its own probes.
  const otherMandatory = new Map<string, boolean[]>();
  const other = producerFor(otherMandatory);
  await Promise.all([producer.start(), other.start()]);
  const warmUps = await Promise.all([
    untilProven(producer, mandatory),
    untilProven(other, otherMandatory, 'other-warm-up'),
  ]);
  await other.close();

  await withChannel(SHARED_BROKER_URL, (channel) =>
    channel.unbindQueue(names.queue, names.exchange, names.queue),
  );
  const requests = Array.from({ length: 300 }, (_, n) => message(names.exchange, names.queue, 'unbound', n));
  const receipts = await producer.publishMany(requests);
  await Promise.all(receipts.map((receipt) => receipt.settled));
  // Confirmed into the unroutable queue is not yet delivered: wait for the work queue to hold them all.
  const expected = warmUps.flat().length + requests.length;
  await until(
    async () =>
      (await withChannel(SHARED_BROKER_URL, (channel) => channel.checkQueue(names.queue))).messageCount >=
      expected,
    'every message in the work queue',
  );
  await statusWhere(producer, (status) => status.messages.journalPending === 0, 'the journal emptied');
  expect(producer.status().messages.unroutable).toBeGreaterThan(0);
  expect(producer.status().messages.deadLettered).toBe(0);
  await producer.close();

  const verdict = score(
    [...warmUps.flat(), ...requests.map((request) => request.messageId as string)],
    await drainQueue(SHARED_BROKER_URL, names.queue),
    { deadLetters: await drainQueue(SHARED_BROKER_URL, names.deadLetterQueue) },
  );
  report('alternate exchange: binding removed', verdict);
  expect(verdict).toMatchObject({ deadLettered: 0, lost: 0, unexpected: 0 });
}, 60_000);

/** Polls a check on the broker (no event announces a queue's depth) until it holds, or fails. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
