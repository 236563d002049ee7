/**
 * `publishFrame` (src/amqp/amqplib-messages.ts) stands in for amqplib's `Args.publish`: the frames
 * amqplib's own encoder writes from it must be byte for byte those its `Channel#publish` writes from
 * `publishOptions`. amqplib's codec and argument builder are not in its package exports, so they are
 * loaded by path from the installed package.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishFrame, publishOptions } from '../../src/amqp/amqplib-messages.js';
import type { PublishProperties } from '../../src/amqp/ports.js';

const require = createRequire(import.meta.url);
const lib = join(dirname(require.resolve('amqplib')), 'lib');
interface Defs {
  readonly BasicPublish: number;
  readonly BasicProperties: number;
  encodeMethod(id: number, channel: number, fields: unknown): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: unknown): Buffer;
}
const defs = require(join(lib, 'defs.js')) as Defs;
const { publish: argsPublish } = require(join(lib, 'api_args.js')) as {
  publish(exchange: string, routingKey: string, options: unknown): unknown;
};

/** The method and header frames amqplib writes for `fields`, on channel 3 for a 1,024-byte body. */
function frames(fields: unknown): Buffer {
  return Buffer.concat([
    defs.encodeMethod(defs.BasicPublish, 3, fields),
    defs.encodeProperties(defs.BasicProperties, 3, 1_024, fields),
  ]);
}

const CASES: Readonly<Record<string, PublishProperties>> = {
  'no properties': {},
  'what ferry sends by default': { messageId: 'm-1', contentType: 'application/json', persistent: true },
  'every property': {
    messageId: 'm-2',
    correlationId: 'c-2',
    contentType: 'text/plain',
    contentEncoding: 'utf-8',
    headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', n: 7, deep: { a: 1 } },
    timestamp: 1_700_000_000,
    persistent: false,
    expiration: 60_000,
    priority: 5,
    type: 'task',
    appId: 'ferry',
  },
  'empty headers': { headers: {} },
};

describe('publishFrame', () => {
  for (const [name, properties] of Object.entries(CASES)) {
    for (const mandatory of [false, true]) {
      it(`encodes as amqplib's publish does: ${name}, mandatory ${mandatory}`, () => {
        const expected = frames(argsPublish('ex', 'rk', publishOptions(properties, mandatory)));
        expect(frames(publishFrame('ex', 'rk', properties, mandatory)).equals(expected)).toBe(true);
      });
    }
  }

  it('passes the headers object itself, never one made on top of it', () => {
    const headers = { traceparent: 'x' };
    const frame = publishFrame('', 'q', { headers }, false);
    expect(frame.headers).toBe(headers);
  });
});
