/**
 * A JSON body with NaN or ±Infinity is refused through `publish()`: JSON.stringify would send null,
 * a body other than the caller's. A null the caller wrote goes as it is.
 */
import { describe, expect, it } from 'vitest';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { createProducer } from '../../src/producer/producer.js';
import { FakeBroker } from '../support/fake-broker.js';

function producer() {
  return createProducer(
    { topology: { declare: false } },
    { broker: new FakeBroker(), journal: new MemoryJournal() },
  );
}

describe('a JSON body with a number JSON cannot hold', () => {
  for (const [name, value] of [
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ] as const) {
    it(`refuses ${name} with INVALID_MESSAGE naming where it is, and accepts nothing`, async () => {
      const p = producer();
      await expect(
        p.publish({ exchange: '', routingKey: 'q', body: { scores: [1, { value }], note: null } }),
      ).rejects.toMatchObject({
        code: 'INVALID_MESSAGE',
        message: expect.stringContaining('body.scores.1.value is not a finite number'),
      });
      expect(p.status().messages.accepted).toBe(0);
      await p.close({ timeoutMs: 0 });
    });
  }

  it('keeps a null the caller wrote', async () => {
    const p = producer();
    const receipt = await p.publish({ exchange: '', routingKey: 'q', body: { note: null, n: 1.5 } });
    expect(receipt.messageId).toMatch(/^[\da-f-]{36}$/);
    expect(p.status().messages.accepted).toBe(1);
    await p.close({ timeoutMs: 0 });
  });
});
