import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { type PublishRequest, toOutboundMessage } from '../../src/producer/publish-request.js';

const limits = { maxMessageBytes: 1_024, appId: 'ferry-test', timestamp: true };
/** The defaults: neither an app id nor a timestamp. */
const lean = { maxMessageBytes: 1_024, appId: undefined, timestamp: false };
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

function invalid(request: unknown, limit = limits): FerryError {
  try {
    toOutboundMessage(request as PublishRequest, NOW, limit);
  } catch (error) {
    if (error instanceof FerryError) return error;
    throw error;
  }
  throw new Error('expected INVALID_MESSAGE');
}

describe('toOutboundMessage', () => {
  it('encodes JSON and sets every property ferry owns', () => {
    const message = toOutboundMessage(
      {
        exchange: 'tasks',
        routingKey: 'ml.embed',
        body: { text: 'héllo', n: [1, 2] },
        messageId: 'id-1',
        correlationId: 'c-1',
        headers: { task: 'embed' },
        type: 'embed',
        priority: 5,
        expirationMs: 60_000,
      },
      NOW,
      limits,
    );
    expect(message).toMatchObject({
      messageId: 'id-1',
      exchange: 'tasks',
      routingKey: 'ml.embed',
      acceptedAt: NOW,
    });
    expect(JSON.parse(message.content.toString('utf8'))).toEqual({ text: 'héllo', n: [1, 2] });
    expect(message.properties).toEqual({
      messageId: 'id-1',
      correlationId: 'c-1',
      contentType: 'application/json',
      headers: { task: 'embed' },
      timestamp: Math.floor(NOW / 1000),
      persistent: true,
      type: 'embed',
      priority: 5,
      expiration: 60_000,
      appId: 'ferry-test',
    });
  });

  it('encodes text and JSON bodies to exactly their UTF-8 bytes', () => {
    const text = 'naïve → 東京 🚀';
    const asText = toOutboundMessage({ exchange: 'x', routingKey: '', body: text }, NOW, limits);
    expect(asText.content.equals(Buffer.from(text, 'utf8'))).toBe(true);
    const asJson = toOutboundMessage({ exchange: 'x', routingKey: '', body: { text } }, NOW, limits);
    expect(asJson.content.equals(Buffer.from(JSON.stringify({ text }), 'utf8'))).toBe(true);
  });

  it('gives every body bytes of its own, however many share a slab', () => {
    const wide = { maxMessageBytes: 1_000_000, appId: undefined, timestamp: false };
    // Sizes from empty to well past a slab's share, enough bodies to fill several slabs.
    const texts = Array.from({ length: 400 }, (_, n) => `${n}:${'é→'.repeat((n * 37) % 3_000)}`);
    const contents = texts.map(
      (text) => toOutboundMessage({ exchange: 'x', routingKey: '', body: text }, NOW, wide).content,
    );
    contents.forEach((content, n) => {
      expect(content.equals(Buffer.from(texts[n] as string, 'utf8'))).toBe(true);
    });
  });

  it('leaves optional properties out rather than undefined', () => {
    const { properties } = toOutboundMessage({ exchange: 'x', routingKey: '', body: null }, NOW, limits);
    expect(Object.keys(properties).sort()).toEqual([
      'appId',
      'contentType',
      'messageId',
      'persistent',
      'timestamp',
    ]);
    expect(properties.contentType).toBe('application/json');
  });

  it('sets neither an app id nor a timestamp unless asked to', () => {
    const { properties } = toOutboundMessage({ exchange: 'x', routingKey: '', body: null }, NOW, lean);
    expect(Object.keys(properties).sort()).toEqual(['contentType', 'messageId', 'persistent']);
  });

  it('sends strings as UTF-8 text and bytes as they are', () => {
    const text = toOutboundMessage({ exchange: 'x', routingKey: 'k', body: 'zürich' }, NOW, limits);
    expect(text.content.equals(Buffer.from('zürich', 'utf8'))).toBe(true);
    expect(text.properties.contentType).toBe('text/plain; charset=utf-8');

    const backing = new Uint8Array([9, 1, 2, 3, 9]);
    const view = backing.subarray(1, 4);
    const bytes = toOutboundMessage({ exchange: 'x', routingKey: 'k', body: view }, NOW, limits);
    expect([...bytes.content]).toEqual([1, 2, 3]);
    expect(bytes.properties.contentType).toBe('application/octet-stream');
  });

  it('generates distinct UUIDs when no message id is given', () => {
    const a = toOutboundMessage({ exchange: 'x', routingKey: 'k', body: 1 }, NOW, limits);
    const b = toOutboundMessage({ exchange: 'x', routingKey: 'k', body: 1 }, NOW, limits);
    expect(a.messageId).not.toBe(b.messageId);
    expect(a.properties.messageId).toBe(a.messageId);
  });

  it('counts the limit in bytes, not characters', () => {
    const limit = { ...limits, maxMessageBytes: 4 };
    expect(
      toOutboundMessage({ exchange: 'x', routingKey: 'k', body: 'éé' }, NOW, limit).content,
    ).toHaveLength(4);
    expect(invalid({ exchange: 'x', routingKey: 'k', body: 'ééé' }, limit).message).toContain('6 bytes');
    // A 255-byte limit on short strings is a byte limit too.
    expect(invalid({ exchange: 'x', routingKey: 'é'.repeat(128), body: 1 }).message).toContain('routingKey');
    expect(() =>
      toOutboundMessage({ exchange: 'x', routingKey: 'é'.repeat(127), body: 1 }, NOW, limits),
    ).not.toThrow();
  });

  it("takes the default exchange (''): it routes by queue name", () => {
    const message = toOutboundMessage({ exchange: '', routingKey: 'tasks', body: 1 }, NOW, limits);
    expect(message).toMatchObject({ exchange: '', routingKey: 'tasks' });
  });

  it('reports every problem at once, with the list in details', () => {
    const error = invalid({ exchange: 7, routingKey: 1, body: undefined, priority: 300, headers: [] });
    expect(error.code).toBe('INVALID_MESSAGE');
    expect(error.details?.problems).toEqual([
      'exchange must be a string',
      'routingKey must be a string',
      'headers must be an object',
      'priority must be an integer from 0 to 255',
      'body is required',
    ]);
  });

  it('refuses bodies JSON cannot represent', () => {
    expect(invalid({ exchange: 'x', routingKey: 'k', body: Symbol('s') }).message).toContain('JSON');
    expect(invalid({ exchange: 'x', routingKey: 'k', body: { n: 1n } }).message).toContain('JSON');
  });
});
