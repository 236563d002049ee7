import { describe, expect, it } from 'vitest';
import { eventually, startedRig, task } from './helpers.js';

describe('healthy path', () => {
  it('publishes straight to the session with the message properties', async () => {
    const { producer, broker } = await startedRig({ publish: { appId: 'gateway', timestamp: true } });
    const before = Date.now();
    await producer.publish(
      task(1, { correlationId: 'corr-1', headers: { traceparent: '00-abc-def-01' }, type: 'summarize' }),
    );
    await producer.publish({ exchange: 'tasks', routingKey: 'ml.embed', body: 'plain text', messageId: 't' });
    await producer.publish({ exchange: 'tasks', routingKey: 'ml.embed', body: Buffer.from([1, 2, 3]) });

    const [json, text, bytes] = broker.session.published;
    expect(json).toMatchObject({ tag: 1, exchange: 'tasks', routingKey: 'ml.summarize' });
    expect(JSON.parse(json!.content.toString('utf8'))).toEqual({ n: 1 });
    expect(json!.properties).toMatchObject({
      messageId: 'm-1',
      persistent: true,
      contentType: 'application/json',
      appId: 'gateway',
      correlationId: 'corr-1',
      headers: { traceparent: '00-abc-def-01' },
      type: 'summarize',
    });
    const timestamp = json!.properties.timestamp as number;
    expect(Number.isInteger(timestamp)).toBe(true);
    expect(timestamp).toBeGreaterThanOrEqual(Math.floor(before / 1000));
    expect(timestamp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));

    expect(text!.content.toString('utf8')).toBe('plain text');
    expect(text!.properties).toMatchObject({ messageId: 't', contentType: 'text/plain; charset=utf-8' });

    expect([...bytes!.content]).toEqual([1, 2, 3]);
    expect(bytes!.properties.contentType).toBe('application/octet-stream');
    // A message without an id gets a fresh UUID: consumers dedupe on it.
    expect(bytes!.properties.messageId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('by default sets neither an app id nor a timestamp', async () => {
    const { producer, broker } = await startedRig();
    await producer.publish(task(1));
    expect(Object.keys(broker.session.published[0]!.properties).sort()).toEqual([
      'contentType',
      'messageId',
      'persistent',
    ]);
  });

  it('a caller-given content type overrides the derived one', async () => {
    const { producer, broker } = await startedRig();
    await producer.publish(task(1, { contentType: 'application/x-celery', contentEncoding: 'utf-8' }));
    expect(broker.session.published[0]!.properties).toMatchObject({
      contentType: 'application/x-celery',
      contentEncoding: 'utf-8',
    });
  });

  it('single acks settle receipts as confirmed and empty the journal', async () => {
    const { producer, broker, journal } = await startedRig();
    const first = await producer.publish(task(1));
    const second = await producer.publish(task(2));
    expect(journal.pendingCount()).toBe(2);
    expect(producer.status().messages.inFlight).toBe(2);

    broker.session.ack(2);
    await expect(second.settled).resolves.toBe('confirmed');
    expect(journal.pendingCount()).toBe(1);
    broker.session.ack(1);
    await expect(first.settled).resolves.toBe('confirmed');

    expect(journal.pendingCount()).toBe(0);
    expect(producer.status().messages).toMatchObject({ accepted: 2, confirmed: 2, inFlight: 0, retrying: 0 });
  });

  it('one multiple ack settles every message up to its tag', async () => {
    const { producer, broker, journal } = await startedRig();
    const receipts = [];
    for (let n = 1; n <= 5; n += 1) receipts.push(await producer.publish(task(n)));

    broker.session.ack(3, true);
    await expect(Promise.all(receipts.slice(0, 3).map((r) => r.settled))).resolves.toEqual([
      'confirmed',
      'confirmed',
      'confirmed',
    ]);
    expect(journal.pendingCount()).toBe(2);
    expect(producer.status().messages.confirmed).toBe(3);

    broker.session.ack(5, true);
    await eventually(() => journal.pendingCount() === 0, 'the journal to empty');
    expect(producer.status().messages).toMatchObject({ confirmed: 5, inFlight: 0 });
    expect(broker.session.published).toHaveLength(5);
  });

  it('publishMany accepts a batch with receipts in order', async () => {
    const { producer, broker } = await startedRig();
    const receipts = await producer.publishMany([task(1), task(2), task(3)]);
    expect(receipts.map((r) => r.messageId)).toEqual(['m-1', 'm-2', 'm-3']);
    expect(broker.session.published.map((p) => p.properties.messageId)).toEqual(['m-1', 'm-2', 'm-3']);
    broker.session.ackAll();
    await expect(Promise.all(receipts.map((r) => r.settled))).resolves.toEqual([
      'confirmed',
      'confirmed',
      'confirmed',
    ]);
  });
});
