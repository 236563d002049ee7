import { inspect } from 'node:util';
import { expect, it } from 'vitest';
import { startedRig, task } from './helpers.js';

/** Counts the turns of the event loop (check phases) until `stop()` is called. */
function countTurns(): { readonly turns: () => number; stop(): void } {
  let turns = 0;
  let running = true;
  const tick = (): void => {
    if (!running) return;
    turns += 1;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    turns: () => turns,
    stop: () => {
      running = false;
    },
  };
}

it('while messages wait in the outbox, each awaited publish lets the event loop turn', async () => {
  const { producer, broker } = await startedRig();
  broker.session.writable = false;
  const counter = countTurns();
  for (let n = 1; n <= 20; n += 1) await producer.publish(task(n));
  counter.stop();
  expect(producer.status().messages.buffered).toBeGreaterThan(0);
  // The socket, the acks and the heartbeats get their turn between publishes, not only at the end.
  expect(counter.turns()).toBeGreaterThanOrEqual(19);
});

it('while the channel takes every message at once, publishing does not wait for the event loop', async () => {
  const { producer } = await startedRig();
  const counter = countTurns();
  for (let n = 1; n <= 20; n += 1) await producer.publish(task(n));
  counter.stop();
  expect(producer.status().messages.buffered).toBe(0);
  expect(counter.turns()).toBe(0);
});

it('a receipt logged or serialised shows its message id, not the message', async () => {
  const { producer } = await startedRig();
  const receipt = await producer.publish(task(1, { body: { secret: 'do-not-log' } }));
  expect(JSON.stringify(receipt)).toBe(JSON.stringify({ messageId: receipt.messageId }));
  expect(inspect(receipt)).not.toContain('do-not-log');
  expect(inspect(receipt)).toContain(receipt.messageId);
});
