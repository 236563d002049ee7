import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildTopology } from '../../src/amqp/topology.js';
import type { Producer } from '../../src/producer/producer.js';
import { CAUGHT_HEADER, PROBE_TYPE } from '../../src/producer/unroutable-catcher.js';
import { FakeBroker, type FakeSession } from '../support/fake-broker.js';
import { eventually, startedRig, task } from './helpers.js';

const UNROUTABLE = {
  alternateExchange: 'tasks.ae',
  queue: 'tasks.unroutable',
  probeTimeoutMs: 100,
  reprobeIntervalMs: 200,
};

const warnings: Error[] = [];
const onWarning = (warning: Error) => {
  if (warning.name === 'FerryTopologyWarning') warnings.push(warning);
};
beforeEach(() => {
  warnings.length = 0;
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
});

/** A fake broker whose task exchange has a policy naming the alternate exchange. */
function brokerWithPolicy(): FakeBroker {
  const broker = new FakeBroker();
  broker.alternateExchangeQueue = UNROUTABLE.queue;
  return broker;
}

/** Publishes one message at a time until one goes without `mandatory`: the exchange is proven. */
async function publishUntilProven(producer: Producer, session: FakeSession, what: string): Promise<void> {
  await eventually(() => {
    void producer.publish(task(session.published.length + 1));
    return session.published.at(-1)?.mandatory === false;
  }, what);
}

it('without the option every publish is mandatory and nothing is consumed', async () => {
  const { producer, broker } = await startedRig();
  const receipts = await producer.publishMany([task(1), task(2)]);
  broker.session.ackAll();
  await Promise.all(receipts.map((receipt) => receipt.settled));
  expect(broker.session.published.map((p) => p.mandatory)).toEqual([true, true]);
  expect(broker.session.consumers.size).toBe(0);
  expect(broker.session.unconfirmed).toHaveLength(0);
});

it('leaves mandatory off for an exchange once its probe came out of the unroutable queue', async () => {
  const { producer, broker } = await startedRig({ topology: { unroutable: UNROUTABLE } }, brokerWithPolicy());
  const session = broker.session;
  expect([...session.consumers.keys()]).toEqual([UNROUTABLE.queue]);

  await producer.publish(task(1));
  // The first publish to an exchange starts its proof and is mandatory itself.
  expect(session.published[0]!.mandatory).toBe(true);
  const probe = session.unconfirmed[0]!;
  expect(probe).toMatchObject({ exchange: 'tasks', properties: { type: PROBE_TYPE } });
  expect(probe.routingKey).toBe(probe.properties.messageId);

  await publishUntilProven(producer, session, 'a publish without mandatory');
  // Another exchange is proven on its own.
  await producer.publish(task(100, { exchange: 'other' }));
  expect(session.published.at(-1)).toMatchObject({ exchange: 'other', mandatory: true });
  expect(warnings).toEqual([]);
});

it('keeps mandatory on the default exchange and sends it no probe: it takes no alternate exchange', async () => {
  const { producer, broker } = await startedRig({ topology: { unroutable: UNROUTABLE } }, brokerWithPolicy());
  const session = broker.session;
  const receipts = await producer.publishMany(
    Array.from({ length: 5 }, (_, n) => task(n, { exchange: '', routingKey: 'ml.summarize' })),
  );
  session.ackAll();
  await Promise.all(receipts.map((receipt) => receipt.settled));
  expect(session.published.map((p) => [p.exchange, p.mandatory])).toEqual(
    Array.from({ length: 5 }, () => ['', true]),
  );
  expect(session.unconfirmed).toEqual([]);
  expect(warnings).toEqual([]);
});

it('declares the alternate exchange and its queue with the topology', async () => {
  const topology = buildTopology({ exchange: 'tasks', queues: ['ml.embed'] });
  const { broker } = await startedRig(
    { topology: { declare: topology, unroutable: UNROUTABLE } },
    brokerWithPolicy(),
  );
  const declared = broker.session.declared[0]!;
  expect(declared.exchanges).toContainEqual({ name: 'tasks.ae', type: 'fanout', durable: true });
  expect(declared.queues).toContainEqual({ name: 'tasks.unroutable', durable: true });
  expect(declared.bindings).toContainEqual({
    queue: 'tasks.unroutable',
    exchange: 'tasks.ae',
    routingKey: '',
  });
  // The task exchange itself is declared as the workers declare it: without an alternate-exchange argument.
  expect(declared.exchanges.find((e) => e.name === 'tasks')).toEqual({
    name: 'tasks',
    type: 'topic',
    durable: true,
  });
});

it('keeps mandatory and warns when the probe does not come back', async () => {
  const { producer, broker } = await startedRig({ topology: { unroutable: UNROUTABLE } });
  await producer.publish(task(1));
  await eventually(() => warnings.length === 1, 'a topology warning');
  expect(warnings[0]!.message).toContain("no alternate exchange of 'tasks' routes to tasks.unroutable");
  await producer.publish(task(2));
  expect(broker.session.published.map((p) => p.mandatory)).toEqual([true, true]);
  // Not probed again at once: one probe per exchange until the re-probe delay has passed.
  expect(broker.session.unconfirmed).toHaveLength(1);
  await new Promise((resolve) => setTimeout(resolve, UNROUTABLE.reprobeIntervalMs));
  await producer.publish(task(3));
  expect(broker.session.unconfirmed).toHaveLength(2);
});

it('renews a proof, and goes back to mandatory when the renewal does not come back', async () => {
  const { producer, broker } = await startedRig({ topology: { unroutable: UNROUTABLE } }, brokerWithPolicy());
  const session = broker.session;
  await publishUntilProven(producer, session, 'a publish without mandatory');
  // The policy is removed: the renewal's probe goes nowhere.
  session.alternateExchangeQueue = null;
  await eventually(() => session.unconfirmed.length === 2, 'the renewal probe');
  // Still caught while the renewal is out: the proof holds until it fails.
  await producer.publish(task(10_000));
  expect(session.publishesOf('m-10000')[0]!.mandatory).toBe(false);
  await eventually(() => warnings.length === 1, 'the warning');
  await producer.publish(task(10_001));
  expect(session.publishesOf('m-10001')[0]!.mandatory).toBe(true);
});

it("hands another producer's probe back to the queue", async () => {
  const { broker } = await startedRig({ topology: { unroutable: UNROUTABLE } }, brokerWithPolicy());
  const probe = (messageId: string) => ({
    exchange: 'tasks',
    routingKey: messageId,
    content: Buffer.alloc(0),
    properties: { messageId, type: PROBE_TYPE },
  });
  // A rejection is a nack with requeue.
  await expect(broker.session.deliver(UNROUTABLE.queue, probe('ferry-probe.other.1'))).rejects.toThrow();
  await expect(broker.session.deliver(UNROUTABLE.queue, probe('not-a-ferry-probe'))).rejects.toThrow();
});

it('takes a caught message back: journaled before the ack, retried with mandatory, then confirmed', async () => {
  const { producer, broker, journal } = await startedRig(
    { topology: { unroutable: UNROUTABLE } },
    brokerWithPolicy(),
  );
  const session = broker.session;
  const receipt = await producer.publish(task(1));
  session.ackAll();
  await expect(receipt.settled).resolves.toBe('confirmed');
  const original = session.published[0]!;

  await session.deliver(UNROUTABLE.queue, {
    exchange: original.exchange,
    routingKey: original.routingKey,
    content: original.content,
    properties: original.properties,
  });
  // Acked only now: the journal holds the message again.
  expect(journal.snapshot().map((pending) => pending.message.messageId)).toEqual(['m-1']);
  await eventually(() => session.publishesOf('m-1').length === 2, 'the retry');
  const retry = session.publishesOf('m-1')[1]!;
  expect(retry).toMatchObject({ exchange: 'tasks', routingKey: 'ml.summarize', mandatory: true });
  expect(retry.content.equals(original.content)).toBe(true);
  // The copy counts the catches in a header, so that a message still unroutable runs out of attempts.
  expect(retry.properties.headers).toEqual({ ...original.properties.headers, [CAUGHT_HEADER]: 1 });
  session.ack(retry.tag);
  await eventually(() => producer.status().messages.retrying === 0, 'the retry confirmed');
  expect(producer.status().messages).toMatchObject({
    accepted: 2,
    confirmed: 2,
    unroutable: 1,
    journalPending: 0,
  });
});

it("gives a caught message of another publisher ferry's properties where it has none, and keeps its own", async () => {
  const options = { topology: { unroutable: UNROUTABLE }, publish: { appId: 'gateway', timestamp: true } };
  const { broker } = await startedRig(options, brokerWithPolicy());
  const session = broker.session;
  const before = Math.floor(Date.now() / 1000);
  const foreign = { exchange: 'tasks', routingKey: 'ml.nowhere', content: Buffer.from('x') };
  await session.deliver(UNROUTABLE.queue, { ...foreign, properties: { messageId: 'bare' } });
  await session.deliver(UNROUTABLE.queue, {
    ...foreign,
    properties: { messageId: 'own', appId: 'billing', timestamp: 1_700_000_000, contentType: 'text/csv' },
  });
  await eventually(() => session.publishesOf('bare').length === 1, 'the first retry');
  await eventually(() => session.publishesOf('own').length === 1, 'the second retry');

  const bare = session.publishesOf('bare')[0]!.properties;
  expect(bare).toMatchObject({ appId: 'gateway', contentType: 'application/octet-stream', persistent: true });
  expect(bare.timestamp).toBeGreaterThanOrEqual(before);
  expect(bare.timestamp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
  expect(session.publishesOf('own')[0]!.properties).toMatchObject({
    appId: 'billing',
    timestamp: 1_700_000_000,
    contentType: 'text/csv',
  });
});

it('waits for the original confirm before journaling the copy of a caught message', async () => {
  const { producer, broker, journal } = await startedRig(
    { topology: { unroutable: UNROUTABLE } },
    brokerWithPolicy(),
  );
  const session = broker.session;
  await producer.publish(task(1));
  const original = session.published[0]!;
  // The delivery can overtake the original's confirm: both come from the same routing.
  const taken = session.deliver(UNROUTABLE.queue, { ...original });
  let done = false;
  void taken.then(() => {
    done = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  expect(done).toBe(false);
  session.ackAll();
  await taken;
  expect(journal.snapshot().map((pending) => pending.message.messageId)).toEqual(['m-1']);
});

it('goes back to mandatory when the consumer is cancelled, declares again and consumes again', async () => {
  const topology = buildTopology({ exchange: 'tasks', queues: ['ml.summarize'] });
  const { producer, broker } = await startedRig(
    { topology: { declare: topology, unroutable: UNROUTABLE } },
    brokerWithPolicy(),
  );
  const session = broker.session;
  await publishUntilProven(producer, session, 'a publish without mandatory');

  session.cancelConsumer(UNROUTABLE.queue);
  await producer.publish(task(1_000));
  expect(session.published.at(-1)!.mandatory).toBe(true);
  await eventually(
    () => warnings.some((w) => w.message.includes('stopped consuming tasks.unroutable')),
    'a warning',
  );
  await eventually(
    () => session.declared.length === 2 && session.consumers.has(UNROUTABLE.queue),
    'consumed again',
  );
  await publishUntilProven(producer, session, 'proven again');
});

it('consumes again when the queue goes twice within the repair interval', async () => {
  // The second cancel comes right after the first repair: a rate-limited repair must be deferred,
  // not dropped, or nothing would consume the queue until the next connection.
  const topology = buildTopology({ exchange: 'tasks', queues: ['ml.summarize'] });
  const { producer, broker } = await startedRig(
    { topology: { declare: topology, unroutable: UNROUTABLE } },
    brokerWithPolicy(),
  );
  const session = broker.session;
  await publishUntilProven(producer, session, 'a publish without mandatory');

  session.cancelConsumer(UNROUTABLE.queue);
  await eventually(
    () => session.declared.length === 2 && session.consumers.has(UNROUTABLE.queue),
    'consumed again',
  );
  session.cancelConsumer(UNROUTABLE.queue);
  await eventually(
    () => session.declared.length === 3 && session.consumers.has(UNROUTABLE.queue),
    'consumed a third time',
  );
  await publishUntilProven(producer, session, 'proven again');
});

it('with topology: false, consumes again after reprobeIntervalMs when the queue goes', async () => {
  // ferry cannot declare the queue back; whoever owns the topology may, so ferry keeps trying.
  const { producer, broker } = await startedRig({ topology: { unroutable: UNROUTABLE } }, brokerWithPolicy());
  const session = broker.session;
  await publishUntilProven(producer, session, 'a publish without mandatory');

  session.cancelConsumer(UNROUTABLE.queue);
  await producer.publish(task(2_000));
  expect(session.published.at(-1)!.mandatory).toBe(true);
  expect(session.declared).toHaveLength(0);
  await eventually(() => session.consumers.has(UNROUTABLE.queue), 'consumed again');
  await publishUntilProven(producer, session, 'proven again');
});

it('a new connection proves its exchanges anew', async () => {
  const { producer, broker } = await startedRig({ topology: { unroutable: UNROUTABLE } }, brokerWithPolicy());
  const first = broker.session;
  await publishUntilProven(producer, first, 'a publish without mandatory');
  first.ackAll();
  first.dropConnection();
  await eventually(() => broker.sessions.length === 2, 'a new session');
  const second = broker.session;
  await eventually(() => second.consumers.has(UNROUTABLE.queue), 'consuming on the new session');
  await producer.publish(task(5_000));
  await eventually(() => second.published.some((p) => p.properties.messageId === 'm-5000'), 'the publish');
  expect(second.publishesOf('m-5000')[0]!.mandatory).toBe(true);
});

it('takes a caught message back once: the same catch delivered again while it retries makes no second record', async () => {
  const { producer, broker, journal } = await startedRig(
    {
      topology: { unroutable: UNROUTABLE },
      retry: { initialDelayMs: 300, maxDelayMs: 300, maxLiveActors: 1 },
    },
    brokerWithPolicy(),
  );
  const session = broker.session;
  const receipt = await producer.publish(task(1));
  session.ackAll();
  await expect(receipt.settled).resolves.toBe('confirmed');
  const original = session.published[0]!;
  const caught = {
    exchange: original.exchange,
    routingKey: original.routingKey,
    content: original.content,
    properties: original.properties,
  };
  await session.deliver(UNROUTABLE.queue, caught);
  // Its consumer's channel died before the ack: the broker delivers the same catch again.
  await session.deliver(UNROUTABLE.queue, caught);
  expect(producer.status().messages).toMatchObject({ accepted: 2, unroutable: 1, retrying: 1 });
  expect(journal.snapshot().map((pending) => [pending.message.messageId, pending.state])).toEqual([
    ['m-1', 'retrying'],
  ]);
  await eventually(() => session.publishesOf('m-1').length === 2, 'the retry');
  session.ack(session.publishesOf('m-1')[1]!.tag);
  await eventually(() => producer.status().messages.retrying === 0, 'the retry confirmed');
  expect(session.publishesOf('m-1')).toHaveLength(2);
  expect(producer.status().messages).toMatchObject({ confirmed: 2, parked: 0, journalPending: 0 });
});
