/**
 * A memory alarm (`set_vm_memory_high_watermark 0`) blocks publishing connections: `state$` shows
 * `blocked`, publishing pauses while accepting goes on, and once the alarm clears everything accepted
 * meanwhile is delivered and confirmed.
 *
 * RabbitMQ 3.10 sends `connection.blocked` to a connection only when it publishes after the alarm
 * (until then the connection is merely `blocking`), so each test publishes a first batch to trigger it;
 * that batch is on the wire, unconfirmed, for as long as the alarm lasts.
 */
import { afterEach, expect, it } from 'vitest';
import type { PublishReceipt } from '../../src/producer/receipt.js';
import { drainQueue, report, score } from '../faults/support/scorer.js';
import { mergeOptions } from '../support/merge-options.js';
import { type TestTopology, uniqueTopology } from './support/broker-objects.js';
import { message, stateWhere, statusWhere, testProducer } from './support/producer.js';
import { useThrowawayBroker } from './support/throwaway.js';

const TRIGGER = 50;
const WHILE_BLOCKED = 500;
const node = useThrowawayBroker({ name: 'ferry-it-blocked' });
let alarmOn = false;

afterEach(async () => {
  if (alarmOn) await node.current().ctl('set_vm_memory_high_watermark', '0.4');
  alarmOn = false;
});

async function raiseAlarm(): Promise<void> {
  alarmOn = true;
  await node.current().ctl('set_vm_memory_high_watermark', '0');
}

async function clearAlarm(): Promise<void> {
  await node.current().ctl('set_vm_memory_high_watermark', '0.4');
  alarmOn = false;
}

function batch(names: TestTopology, run: string, count: number) {
  return Array.from({ length: count }, (_, n) => message(names.exchange, names.queue, run, n));
}

async function settleAndScore(
  scenario: string,
  names: TestTopology,
  receipts: readonly PublishReceipt[],
  extra: Readonly<Record<string, unknown>>,
) {
  const outcomes = await Promise.all(receipts.map((receipt) => receipt.settled));
  expect(outcomes).toEqual(receipts.map(() => 'confirmed'));
  const verdict = score(
    receipts.map((receipt) => receipt.messageId),
    await drainQueue(node.current().url, names.queue),
  );
  report(scenario, verdict, extra);
  expect(verdict).toMatchObject({ delivered: receipts.length, lost: 0, unexpected: 0 });
  return verdict;
}

it('shows blocked during a memory alarm, keeps accepting, and delivers everything once it clears', async () => {
  const names = uniqueTopology('blocked');
  const producer = testProducer(
    mergeOptions(names.producerOptions, { connection: { url: node.current().url } }),
  );
  await producer.start();

  await raiseAlarm();
  const alarmAt = Date.now();
  const trigger = await producer.publishMany(batch(names, 'trigger', TRIGGER));
  await stateWhere(producer, (summary) => summary.connection === 'blocked', 'blocked', 10_000);
  const blockedAfterMs = Date.now() - alarmAt;
  expect(producer.status().connection.blockedReason).toMatch(/memory/i);
  expect(producer.status().healthy).toBe(true);

  const accepted = await Promise.all(
    batch(names, 'blocked', WHILE_BLOCKED).map((request) => producer.publish(request)),
  );
  const whileBlocked = producer.status().messages;
  expect(whileBlocked.accepted).toBe(TRIGGER + WHILE_BLOCKED);
  expect(whileBlocked.confirmed).toBe(0);
  // Publishing paused: what was accepted while blocked waits in the buffer, not on the socket.
  expect(whileBlocked.buffered).toBe(WHILE_BLOCKED);

  await clearAlarm();
  const clearedAt = Date.now();
  await stateWhere(producer, (summary) => summary.connection === 'connected', 'connected again', 10_000);
  const all = [...trigger, ...accepted];
  const verdict = await settleAndScore('blocked', names, all, {
    blockedAfterMs,
    blockedMs: clearedAt - alarmAt,
    recoveryMs: Date.now() - clearedAt,
    redelivered: producer.status().messages.redelivered,
  });
  expect(verdict.duplicated).toBe(0);
}, 60_000);

it('a block longer than the confirm timeout neither republishes the messages on the wire nor trips the breaker', async () => {
  const confirmTimeoutMs = 1_000;
  const names = uniqueTopology('blocked-long');
  const producer = testProducer(
    mergeOptions(names.producerOptions, {
      connection: { url: node.current().url },
      publish: { confirmTimeoutMs: confirmTimeoutMs },
    }),
  );
  await producer.start();

  await raiseAlarm();
  const trigger = await producer.publishMany(batch(names, 'trigger', TRIGGER));
  await stateWhere(producer, (summary) => summary.connection === 'blocked', 'blocked', 10_000);
  const blockedAt = Date.now();
  // An observation window, not a synchronisation: nothing must happen for three confirm timeouts.
  const during = await statusWhere(
    producer,
    (status) => status.messages.retrying > 0 || Date.now() - blockedAt > 3 * confirmTimeoutMs,
    'three confirm timeouts into the block',
  );
  await clearAlarm();
  await stateWhere(producer, (summary) => summary.connection === 'connected', 'connected again', 10_000);
  const verdict = await settleAndScore('blocked-long', names, trigger, {
    retryingDuringBlock: during.messages.retrying,
    breakerDuringBlock: during.circuitBreaker.state,
    redelivered: producer.status().messages.redelivered,
  });
  expect(during.messages.retrying).toBe(0);
  expect(during.circuitBreaker.state).toBe('closed');
  expect(verdict.duplicated).toBe(0);
}, 60_000);
