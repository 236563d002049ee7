import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { eventually, ids, rejection, rig, task } from './helpers.js';

describe('accepting while disconnected', () => {
  it('messages published before start() wait in the outbox and go out in order once connected', async () => {
    const { producer, broker, journal } = rig();
    const receipts = [];
    for (let n = 1; n <= 3; n += 1) receipts.push(await producer.publish(task(n)));
    expect(producer.status()).toMatchObject({ state: 'idle' });
    expect(producer.status().messages).toMatchObject({ accepted: 3, buffered: 3, inFlight: 0 });
    expect(producer.status().messages.bufferedBytes).toBeGreaterThan(0);
    expect(journal.pendingCount()).toBe(3);
    expect(broker.connectAttempts).toBe(0);

    await producer.start();
    await eventually(() => broker.session.published.length === 3, 'the buffered messages to go out');
    expect(ids(broker.session.published)).toEqual(['m-1', 'm-2', 'm-3']);
    expect(producer.status().messages).toMatchObject({ buffered: 0, bufferedBytes: 0, inFlight: 3 });

    broker.session.ackAll();
    await expect(Promise.all(receipts.map((r) => r.settled))).resolves.toEqual([
      'confirmed',
      'confirmed',
      'confirmed',
    ]);
    expect(journal.pendingCount()).toBe(0);
  });

  it('messages published while the broker refuses connections are delivered after it comes back', async () => {
    const { producer, broker } = rig();
    broker.refuse = new FerryError('CONNECTION_REFUSED', 'connect ECONNREFUSED 127.0.0.1:5672');
    const started = producer.start();
    await eventually(() => broker.connectAttempts >= 2, 'a few refused attempts');
    const receipt = await producer.publish(task(1));
    expect(producer.status().messages.buffered).toBe(1);
    expect(producer.status().connection.phase).not.toBe('connected');
    expect(producer.status().connection.lastError?.code).toBe('CONNECTION_REFUSED');

    broker.refuse = null;
    await started;
    await eventually(() => broker.sessions.length === 1 && broker.session.published.length === 1, 'delivery');
    broker.session.ackAll();
    await expect(receipt.settled).resolves.toBe('confirmed');
    expect(producer.status().messages.buffered).toBe(0);
  });
});

describe('a full buffer', () => {
  it('makes publish() wait, and resolve when room frees up', async () => {
    const { producer, broker } = rig({ buffer: { maxMessages: 3 } });
    for (let n = 1; n <= 3; n += 1) await producer.publish(task(n));
    let resolved = false;
    const waiting = producer.publish(task(4)).then((receipt) => {
      resolved = true;
      return receipt;
    });
    // Still waiting after the other accepted messages' journal commits ran.
    for (let turn = 0; turn < 5; turn += 1) await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    expect(producer.status().messages).toMatchObject({ accepted: 3, buffered: 3 });

    await producer.start();
    const receipt = await waiting;
    expect(receipt.messageId).toBe('m-4');
    await eventually(() => broker.session.published.length === 4, 'all four to go out');
    expect(ids(broker.session.published)).toEqual(['m-1', 'm-2', 'm-3', 'm-4']);
  });

  it('counts bytes too', async () => {
    const { producer } = rig({ buffer: { maxBytes: 100, timeoutMs: 20 } });
    await producer.publish({ exchange: 'x', routingKey: 'k', body: 'a'.repeat(60) });
    const error = await rejection(producer.publish({ exchange: 'x', routingKey: 'k', body: 'b'.repeat(60) }));
    expect(error.code).toBe('BUFFER_FULL');
    expect(producer.status().messages).toMatchObject({ accepted: 1, bufferedBytes: 60 });
  });

  it('rejects BUFFER_FULL after bufferTimeoutMs, accepting nothing', async () => {
    const { producer, journal } = rig({ buffer: { maxMessages: 2, timeoutMs: 30 } });
    await producer.publish(task(1));
    await producer.publish(task(2));
    const started = Date.now();
    const error = await rejection(producer.publish(task(3)));
    expect(error.code).toBe('BUFFER_FULL');
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(producer.status().messages).toMatchObject({ accepted: 2, buffered: 2 });
    expect(journal.pendingCount()).toBe(2);
  });

  it('a batch larger than the room left waits as a whole', async () => {
    const { producer } = rig({ buffer: { maxMessages: 3, timeoutMs: 20 } });
    await producer.publish(task(1));
    const error = await rejection(producer.publishMany([task(2), task(3), task(4)]));
    expect(error.code).toBe('BUFFER_FULL');
    expect(producer.status().messages).toMatchObject({ accepted: 1, buffered: 1 });
  });
});
