/**
 * A confirm that never arrives (the broker frozen with `kill -STOP` right after the publish) is an
 * unknown outcome: after `confirmTimeoutMs` the message is republished with the same message id, and
 * once the broker wakes up every message is confirmed. Duplicates are allowed only for messages whose
 * confirm timed out.
 */
import { expect, it } from 'vitest';
import { drainQueue, report, score } from '../faults/support/scorer.js';
import { mergeOptions } from '../support/merge-options.js';
import { SHARED_BROKER_URL, uniqueTopology } from './support/broker-objects.js';
import { message, messageActor, statusWhere, testProducer } from './support/producer.js';
import { useThrowawayBroker } from './support/throwaway.js';

const BEFORE = 200;
const FROZEN = 200;
const node = useThrowawayBroker({ name: 'ferry-it-confirm-timeout' });

it('republishes messages whose confirm timed out, with the same id, and loses none', async () => {
  const broker = node.current();
  expect(broker.url).not.toBe(SHARED_BROKER_URL);
  const names = uniqueTopology('confirm-timeout');
  const producer = testProducer(
    mergeOptions(names.producerOptions, {
      connection: { url: broker.url },
      publish: { confirmTimeoutMs: 1_000 },
      // Every republish into the frozen broker times out too: enough attempts to outlast the freeze.
      retry: { maxAttempts: 50, initialDelayMs: 100, maxDelayMs: 300 },
      breaker: { failureThreshold: 100_000 },
    }),
  );
  await producer.start();
  const before = await producer.publishMany(
    Array.from({ length: BEFORE }, (_, n) => message(names.exchange, names.queue, 'before', n)),
  );
  expect(await Promise.all(before.map((receipt) => receipt.settled))).toEqual(before.map(() => 'confirmed'));

  const frozen = await producer.publishMany(
    Array.from({ length: FROZEN }, (_, n) => message(names.exchange, names.queue, 'frozen', n)),
  );
  const settled = new Set<string>();
  for (const receipt of frozen) void receipt.settled.then(() => settled.add(receipt.messageId));
  broker.freeze();
  let timedOut: Set<string>;
  let frozenAt: number;
  try {
    frozenAt = Date.now();
    // Every message of the frozen batch was either confirmed (acked before the freeze) or timed out
    // and has been republished into the frozen broker at least once.
    const republished = (id: string): boolean => {
      const actor = messageActor(producer, id);
      if (actor === undefined) return false;
      const { value } = actor;
      const awaiting = typeof value === 'object' && value !== null && 'awaitingConfirm' in value;
      return awaiting || actor.context.attempts >= 2;
    };
    await statusWhere(
      producer,
      () => frozen.every(({ messageId }) => settled.has(messageId) || republished(messageId)),
      'every unconfirmed message timed out and republished',
      20_000,
    );
    timedOut = new Set(
      frozen
        .map((receipt) => receipt.messageId)
        .filter((id) => messageActor(producer, id)?.context.lastFailure.code === 'CONFIRM_TIMEOUT'),
    );
    expect(producer.status().messages.deadLettered).toBe(0);
  } finally {
    broker.unfreeze();
  }
  const unfrozenAt = Date.now();
  expect(timedOut.size).toBeGreaterThan(0);

  const outcomes = await Promise.all(frozen.map((receipt) => receipt.settled));
  const recoveryMs = Date.now() - unfrozenAt;
  expect(outcomes).toEqual(frozen.map(() => 'confirmed'));
  await producer.close();

  const deliveries = await drainQueue(broker.url, names.queue);
  const verdict = score(
    [...before, ...frozen].map((receipt) => receipt.messageId),
    deliveries,
  );
  report('confirm-timeout', verdict, {
    timedOut: timedOut.size,
    duplicatedIds: verdict.duplicatedIds.size,
    frozenMs: unfrozenAt - frozenAt,
    recoveryMs,
  });
  expect(verdict).toMatchObject({ delivered: BEFORE + FROZEN, lost: 0, unexpected: 0 });
  const unexplained = [...verdict.duplicatedIds].filter((id) => !timedOut.has(id));
  expect(unexplained, 'duplicates of messages whose confirm never timed out').toEqual([]);
}, 60_000);
