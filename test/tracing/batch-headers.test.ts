/**
 * A batch's messages mostly share their parent, and with the W3C propagators ferry builds their
 * `traceparent` itself after the first message went through the propagator: every message's header
 * must still be its own span's context, with the parent's baggage; any other propagator is asked for
 * every message. Attributes come from a per-destination template: each message keeps its own.
 */
import {
  type Context,
  context,
  propagation,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { afterEach, describe, expect, it } from 'vitest';
import { outcomes, startedRig, task } from '../producer/helpers.js';
import { registerTracing, spanOf, traceparentOf } from './support.js';

registerTracing();
const tracer = trace.getTracer('caller');
const w3c = (): TextMapPropagator =>
  new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });

/** Replaces the global propagator (the API keeps the first one registered unless disabled). */
function usePropagator(propagator: TextMapPropagator): void {
  propagation.disable();
  propagation.setGlobalPropagator(propagator);
}

afterEach(() => usePropagator(w3c()));

/** Publishes `count` messages in one `publishMany` inside `parent`; returns each one's headers. */
async function publishBatch(count: number, parent: Context): Promise<Record<string, unknown>[]> {
  const { producer, broker } = await startedRig();
  const requests = Array.from({ length: count }, (_, i) =>
    task(i + 1, i === 1 ? { routingKey: 'ml.embed', correlationId: 'c-2' } : {}),
  );
  const receipts = await context.with(parent, () => producer.publishMany(requests));
  const headers = requests.map(
    (request) => broker.session.publishesOf(request.messageId ?? '')[0]!.properties.headers!,
  );
  broker.session.ackAll();
  await outcomes(receipts);
  return headers;
}

describe('with the W3C propagators', () => {
  it('every message of a batch carries its own span’s traceparent and the parent’s baggage', async () => {
    const caller = tracer.startSpan('caller');
    const baggage = propagation.createBaggage({ tenant: { value: 'acme' } });
    const parent = propagation.setBaggage(trace.setSpan(context.active(), caller), baggage);
    const headers = await publishBatch(4, parent);
    caller.end();
    const spans = headers.map((_, i) => spanOf(`m-${i + 1}`));
    expect(headers).toEqual(
      spans.map((span) => ({ traceparent: traceparentOf(span.spanContext()), baggage: 'tenant=acme' })),
    );
    expect(new Set(spans.map((span) => span.spanContext().spanId)).size).toBe(4);
    for (const span of spans) expect(span.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
  });

  it('keeps each message’s own destination, id and correlation id in its attributes', async () => {
    await publishBatch(3, context.active());
    expect(spanOf('m-2').name).toBe('publish tasks:ml.embed');
    expect(spanOf('m-2').attributes).toMatchObject({
      'messaging.destination.name': 'tasks:ml.embed',
      'messaging.rabbitmq.destination.routing_key': 'ml.embed',
      'messaging.message.id': 'm-2',
      'messaging.message.conversation_id': 'c-2',
    });
    expect(spanOf('m-3').attributes['messaging.destination.name']).toBe('tasks:ml.summarize');
    expect(spanOf('m-3').attributes['messaging.message.id']).toBe('m-3');
    expect(spanOf('m-3').attributes).not.toHaveProperty('messaging.message.conversation_id');
  });

  it('copies the caller’s headers and leaves them as they were', async () => {
    const { producer, broker } = await startedRig();
    const given = Object.freeze({ other: 'kept' });
    const receipts = await producer.publishMany([task(1, { headers: given }), task(2, { headers: given })]);
    broker.session.ackAll();
    await outcomes(receipts);
    expect(given).toEqual({ other: 'kept' });
    for (const id of ['m-1', 'm-2']) {
      expect(broker.session.publishesOf(id)[0]!.properties.headers).toEqual({
        other: 'kept',
        traceparent: traceparentOf(spanOf(id).spanContext()),
      });
    }
  });
});

describe('with another propagator', () => {
  it('asks it for every message, even beside the W3C trace context propagator', async () => {
    const asked: string[] = [];
    const spanIdPropagator: TextMapPropagator = {
      inject: (ctx: Context, carrier: unknown, setter: TextMapSetter) => {
        const spanId = trace.getSpanContext(ctx)?.spanId ?? 'none';
        asked.push(spanId);
        setter.set(carrier, 'x-span', spanId);
      },
      extract: (ctx: Context) => ctx,
      fields: () => ['x-span'],
    };
    usePropagator(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), spanIdPropagator] }),
    );
    const headers = await publishBatch(3, context.active());
    const spanContexts = [1, 2, 3].map((n) => spanOf(`m-${n}`).spanContext());
    expect(headers).toEqual(
      spanContexts.map((spanContext) => ({
        traceparent: traceparentOf(spanContext),
        'x-span': spanContext.spanId,
      })),
    );
    expect(asked).toEqual(spanContexts.map((spanContext) => spanContext.spanId));
  });

  it('asks a propagator that writes W3C’s fields its own way for every message too', async () => {
    const upper = new W3CTraceContextPropagator();
    usePropagator({
      inject: (ctx, carrier, setter) =>
        upper.inject(ctx, carrier, { set: (c, key, value) => setter.set(c, key, value.toUpperCase()) }),
      extract: (ctx) => ctx,
      fields: () => upper.fields(),
    });
    const headers = await publishBatch(3, context.active());
    expect(headers).toEqual(
      [1, 2, 3].map((n) => ({ traceparent: traceparentOf(spanOf(`m-${n}`).spanContext()).toUpperCase() })),
    );
  });
});
