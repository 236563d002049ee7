import { describe, expect, it } from 'vitest';
import { Accepted } from '../../src/producer/accepted.js';

const message = (acceptedAt: number) => ({
  messageId: 'm-1',
  exchange: 'x',
  routingKey: 'k',
  content: Buffer.from('{}'),
  properties: { messageId: 'm-1', contentType: 'application/json', persistent: true as const },
  acceptedAt,
});

describe('Accepted', () => {
  it('gives back the acceptance time it was built with, whether near now or long ago', () => {
    // Held as an offset from when the module loaded: near now, long before, and past 2^31 ms of it.
    const times = [
      Date.now(),
      Date.now() - 1,
      0,
      Date.now() - 40 * 24 * 3_600_000,
      Date.now() + 2 ** 33,
      1.5,
    ];
    for (const at of times) expect(new Accepted(message(at)).acceptedAt).toBe(at);
  });

  it('is the message itself, with its fields and size', () => {
    const accepted = new Accepted(message(1_700_000_000_000));
    expect(accepted.message).toBe(accepted);
    expect(accepted.bytes).toBe(2);
    expect(accepted.messageId).toBe('m-1');
  });

  it('gives back its body byte for byte, also when the body is a slice of a larger buffer', () => {
    const shared = Buffer.from('xx{"a":1}yy');
    const accepted = new Accepted({ ...message(0), content: shared.subarray(2, 9) });
    expect(accepted.content.toString()).toBe('{"a":1}');
    expect(accepted.bytes).toBe(7);
  });
});
