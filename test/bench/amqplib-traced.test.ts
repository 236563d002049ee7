/**
 * The hand-instrumented amqplib bench client does a traced ferry's span work, no less and no more: on
 * the shared broker, its span for a message has the name, kind and attributes ferry's traced bench
 * client gives the same message (but for ferry's own `ferry.outcome`), its context is the message's
 * `traceparent`, and a nack ends it as an error with `error.type`.
 */
import { randomBytes } from 'node:crypto';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { connect } from 'amqplib';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { benchObjects, declareObjects, deleteObjects, sharedCtl } from '../../bench/broker.js';
import { createTracedClient as createAmqplibTraced } from '../../bench/clients/amqplib-traced.js';
import type { ClientFactory } from '../../bench/clients/client.js';
import { createTracedClient as createFerryTraced } from '../../bench/clients/ferry.js';
import type { BenchMessage, Target } from '../../bench/workload.js';
import { registerTracing, spanOf, traceparentOf } from '../tracing/support.js';

// Registered first, so the clients' own registration of the no-op provider leaves this one in place.
registerTracing();

const URL = 'amqp://guest:guest@127.0.0.1:5672';
const objects = benchObjects(`otelfloor-${randomBytes(4).toString('hex')}`);
const target: Target = {
  url: URL,
  exchange: objects.exchange,
  routingKey: objects.queue,
  queue: objects.queue,
  unroutable: { alternateExchange: objects.alternateExchange, queue: objects.unroutableQueue },
};
/** A queue that refuses every message: the broker nacks each publish routed to it. */
const refusing = `${objects.queue}-refusing`;

beforeAll(() => declareObjects(URL, objects, sharedCtl));
afterAll(async () => {
  const model = await connect(URL);
  await (await model.createChannel()).deleteQueue(refusing);
  await model.close();
  await deleteObjects(URL, objects, sharedCtl);
});

function message(id: string): BenchMessage {
  return { id, body: { task: 'bench', args: [1, 2, 3] } };
}

/** Sends one message through a bench client and returns its finished span. */
async function sent(factory: ClientFactory, to: Target, id: string): Promise<ReadableSpan> {
  const client = await factory(to, { reconnectDelayMs: 100, recovery: false, scratch: '' });
  try {
    await client.send?.(message(id)).catch(() => undefined);
    return await vi.waitFor(() => spanOf(id));
  } finally {
    await client.close();
  }
}

/** The `traceparent` header of every message in the bench queue, by message id. */
async function traceparents(): Promise<Record<string, unknown>> {
  const model = await connect(URL);
  const channel = await model.createChannel();
  const found: Record<string, unknown> = {};
  for (let got = await channel.get(objects.queue); got !== false; got = await channel.get(objects.queue)) {
    found[String(got.properties.messageId)] = got.properties.headers?.traceparent;
  }
  await model.close();
  return found;
}

it('starts the span ferry starts for the same message and puts its context in the headers', async () => {
  const amqplib = await sent(createAmqplibTraced, target, 'a-1');
  const ferry = await sent(createFerryTraced, target, 'f-1');

  expect(amqplib.name).toBe(ferry.name);
  expect(amqplib.name).toBe(`publish ${objects.exchange}:${objects.queue}`);
  expect(amqplib.kind).toBe(SpanKind.PRODUCER);
  expect(ferry.kind).toBe(SpanKind.PRODUCER);
  const { 'ferry.outcome': outcome, ...ferrys } = ferry.attributes;
  expect(outcome).toBe('confirmed');
  expect(amqplib.attributes).toEqual({ ...ferrys, 'messaging.message.id': 'a-1' });
  expect(amqplib.status.code).toBe(SpanStatusCode.UNSET);
  expect(amqplib.events).toEqual([]);
  expect(await traceparents()).toEqual({
    'a-1': traceparentOf(amqplib.spanContext()),
    'f-1': traceparentOf(ferry.spanContext()),
  });
});

it('ends the span as an error with error.type when the broker nacks the message', async () => {
  const model = await connect(URL);
  const channel = await model.createChannel();
  await channel.assertQueue(refusing, {
    durable: false,
    arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
  });
  await model.close();
  const span = await sent(createAmqplibTraced, { ...target, exchange: '', routingKey: refusing }, 'a-2');

  expect(span.attributes['error.type']).toBe('NACKED');
  expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'NACKED' });
});
