import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeEvent } from '../../src/journal/codec.js';
import type { JournalEvent } from '../../src/journal/journal.js';
import { outbound } from './fixtures.js';

/** An event through its stored columns and back. */
function roundTrip(event: JournalEvent): JournalEvent {
  return decodeEvent(encodeEvent(event), 'test row');
}

describe('the journal codec', () => {
  it('keeps header values as they were: Buffers as bytes, strings that name a Buffer as strings', () => {
    const header = fc.oneof(
      fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
      fc.constantFrom('Buffer', '{"type":"Buffer"}', 'plain'),
      fc.record({ type: fc.constantFrom('Buffer', 'other'), data: fc.constant('not a list') }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), header), (headers) => {
        const message = outbound('m');
        const event: JournalEvent = {
          type: 'accepted',
          message: { ...message, properties: { ...message.properties, headers } },
        };
        expect(roundTrip(event)).toEqual(event);
      }),
    );
  });
});
