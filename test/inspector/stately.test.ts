/**
 * What the Stately inspector may see: no message bodies, passwords, binary payloads or URL
 * credentials, while the rest of a context or event (the part worth inspecting) is kept. The
 * inspector itself runs end to end in stately-live.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  inspectModeFromEnv,
  sanitizeContext,
  sanitizeEvent,
  sanitizeValue,
} from '../../src/inspector/stately.js';

const SECRET = 's3cret-pw';
const BODY = 'the-task-payload';

describe('sanitizeContext', () => {
  it('withholds bodies, passwords and bytes and redacts URL credentials, keeping the rest', () => {
    const context = {
      messageId: 'm-1',
      attempts: 2,
      lastFailure: { code: 'NACKED', message: 'nacked', permanent: false },
      message: { body: BODY, content: Buffer.from(BODY), headers: { traceparent: 't' } },
      connect: { url: `amqp://guest:${SECRET}@127.0.0.1:5672`, password: SECRET },
      list: [{ payload: BODY }],
    };
    const sanitized = sanitizeContext(context);
    const text = JSON.stringify(sanitized);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(BODY);
    expect(sanitized).toMatchObject({
      messageId: 'm-1',
      attempts: 2,
      lastFailure: context.lastFailure,
      message: { headers: { traceparent: 't' } },
      connect: { url: 'amqp://guest:***@127.0.0.1:5672' },
    });
    // The original is left as it was: the actor keeps its context.
    expect(context.message.body).toBe(BODY);
  });

  it('stops at cycles and class instances instead of following them', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(() => JSON.stringify(sanitizeValue(cyclic))).not.toThrow();
    expect(sanitizeValue({ when: new Map() })).toEqual({ when: '[Map]' });
  });
});

describe('sanitizeEvent', () => {
  it('keeps the type and strips the body', () => {
    const event = { type: 'task.accepted', body: BODY, messageId: 'm-1' };
    expect(sanitizeEvent(event)).toEqual({ type: 'task.accepted', body: '[withheld]', messageId: 'm-1' });
  });
});

describe('FERRY_INSPECT', () => {
  it('is off unless set to ws or sky', () => {
    expect(inspectModeFromEnv(undefined)).toBeNull();
    expect(inspectModeFromEnv(' ')).toBeNull();
    expect(inspectModeFromEnv('ws')).toBe('ws');
    expect(inspectModeFromEnv('sky')).toBe('sky');
    expect(() => inspectModeFromEnv('yes')).toThrow(/FERRY_INSPECT/);
  });
});
