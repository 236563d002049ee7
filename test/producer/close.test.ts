import { describe, expect, it } from 'vitest';
import { eventually, rejection, rig, startedRig, task } from './helpers.js';

describe('close()', () => {
  it('waits for in-flight confirms, then closes the session gracefully', async () => {
    const { producer, broker, journal } = await startedRig();
    const receipts = await producer.publishMany([task(1), task(2)]);
    const session = broker.session;

    let closed = false;
    const closing = producer.close({ timeoutMs: 2_000 }).then(() => {
      closed = true;
    });
    expect(producer.status().state).toBe('closing');
    await eventually(() => producer.status().state === 'closing', 'closing');
    expect(closed).toBe(false);
    expect(session.closed).toBe(false);

    session.ack(1);
    expect(closed).toBe(false);
    session.ack(2);
    await closing;
    expect(session.closed).toBe(true);
    expect(session.destroyed).toBe(false);
    await expect(Promise.all(receipts.map((r) => r.settled))).resolves.toEqual(['confirmed', 'confirmed']);
    expect(journal.pendingCount()).toBe(0);
    expect(producer.status()).toMatchObject({ state: 'closed', healthy: false });
  });

  it('gives up after timeoutMs: unconfirmed receipts reject CLOSED and stay journaled', async () => {
    const { producer, broker, journal } = await startedRig();
    const inFlight = await producer.publish(task(1));
    broker.session.nack(1);
    const retrying = inFlight;
    const unanswered = await producer.publish(task(2));
    const settled = unanswered.settled;

    const started = Date.now();
    await producer.close({ timeoutMs: 50 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await rejection(settled)).code).toBe('CLOSED');
    expect((await rejection(retrying.settled)).code).toBe('CLOSED');
    expect(journal.pendingCount()).toBe(2);
    expect(broker.session.closed || broker.session.destroyed).toBe(true);
  });

  it('publishing after close rejects CLOSED', async () => {
    const { producer } = await startedRig();
    await producer.close();
    expect((await rejection(producer.publish(task(1)))).code).toBe('CLOSED');
    expect((await rejection(producer.publishMany([task(2)]))).code).toBe('CLOSED');
    expect(producer.status().messages.accepted).toBe(0);
  });

  it('rejects callers waiting for buffer room with CLOSED', async () => {
    const { producer } = rig({ buffer: { maxMessages: 1, timeoutMs: 5_000 } });
    await producer.publish(task(1));
    const waiting = rejection(producer.publish(task(2)));
    await producer.close({ timeoutMs: 0 });
    expect((await waiting).code).toBe('CLOSED');
  });

  it('a producer that never started closes at once', async () => {
    const { producer, broker } = rig();
    const receipt = await producer.publish(task(1));
    const started = Date.now();
    await producer.close({ timeoutMs: 1_000 });
    expect(Date.now() - started).toBeLessThan(500);
    expect(broker.connectAttempts).toBe(0);
    expect((await rejection(receipt.settled)).code).toBe('CLOSED');
  });

  it('a second close() waits for the first', async () => {
    const { producer, broker } = await startedRig();
    await producer.publish(task(1));
    const first = producer.close({ timeoutMs: 1_000 });
    let secondDone = false;
    const second = producer.close().then(() => {
      secondDone = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(secondDone).toBe(false);
    broker.session.ackAll();
    await Promise.all([first, second]);
    expect(producer.status().state).toBe('closed');
  });
});

it('close() during start() leaves the producer closed, not running', async () => {
  const { producer, broker } = rig();
  const starting = rejection(producer.start());
  await producer.close({ timeoutMs: 0 });
  expect((await starting).code).toBe('CLOSED');
  expect(producer.status().state).toBe('closed');
  expect(broker.connectAttempts).toBe(0);
});

it('after close() the connection phase is closed', async () => {
  const { producer } = await startedRig();
  await producer.close();
  expect(producer.status().connection.phase).toBe('closed');
});
