import { expect, it } from 'vitest';
import { parseSizeRefusal } from '../../src/amqp/size-refusal.js';

it('reads both sizes from the close amqplib reports for max_message_size', () => {
  expect(
    parseSizeRefusal(
      'Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - message size 2100 is larger than configured max size 1024"',
    ),
  ).toEqual({ messageSize: 2100, maxMessageSize: 1024 });
});

it('reads the hard cap refusal, which says "max size" without "configured"', () => {
  expect(
    parseSizeRefusal('PRECONDITION_FAILED - message size 536870913 is larger than max size 536870912'),
  ).toEqual({ messageSize: 536_870_913, maxMessageSize: 536_870_912 });
});

it.each([
  ['another 406', "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'x' in vhost '/'"],
  ['a size refusal without numbers', 'PRECONDITION_FAILED - message size is larger than configured max size'],
  ['a size refusal without the limit', 'message size 2100 is larger than configured max size'],
  ['empty text', ''],
])('has nothing to say about %s', (_, text) => {
  expect(parseSizeRefusal(text)).toBeUndefined();
});
