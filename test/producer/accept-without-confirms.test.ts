import { expect, it } from 'vitest';
import { startedRig, task } from './helpers.js';

it('a sequential await-publish loop completes while the broker has confirmed nothing', async () => {
  const { producer, broker } = await startedRig();
  const count = 200;
  const receipts = [];
  for (let n = 0; n < count; n += 1) receipts.push(await producer.publish(task(n)));

  expect(broker.session.published).toHaveLength(count);
  expect(broker.session.unanswered()).toHaveLength(count);
  expect(producer.status().messages).toMatchObject({ accepted: count, confirmed: 0, inFlight: count });
  expect(receipts.every((r) => r.messageId !== '')).toBe(true);

  broker.session.ackAll();
  await Promise.all(receipts.map((r) => r.settled));
  expect(producer.status().messages.confirmed).toBe(count);
});
