/**
 * One PRODUCER span per accepted message, on the fake broker: its name, kind and attributes, the header
 * that carries its context, and an event for each fault it meets before it settles.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_EXCHANGE } from '../../src/amqp/topology.js';
import { createProducer } from '../../src/producer/producer.js';
import { eventually, FAST, outcomes, rig, startedRig, task } from '../producer/helpers.js';
import { FakeBroker } from '../support/fake-broker.js';
import { eventNames, exporter, registerTracing, spanOf, traceparentOf } from './support.js';

registerTracing();
const tracer = trace.getTracer('caller');

describe('a confirmed message', () => {
  it('is one PRODUCER span, child of the caller’s active span, ended by its confirm', async () => {
    const { producer, broker } = await startedRig();
    const caller = tracer.startSpan('caller');
    const receipt = await context.with(trace.setSpan(context.active(), caller), () =>
      producer.publish(task(1, { correlationId: 'c-1' })),
    );
    caller.end();
    const published = broker.session.publishesOf('m-1')[0]!;
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['caller']);

    broker.session.ack(published.tag);
    await expect(outcomes([receipt])).resolves.toEqual(['confirmed']);
    const span = spanOf('m-1');
    expect(span.name).toBe('publish tasks:ml.summarize');
    expect(span.kind).toBe(SpanKind.PRODUCER);
    expect(span.attributes).toEqual({
      'messaging.system': 'rabbitmq',
      'messaging.operation.name': 'publish',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'tasks:ml.summarize',
      'messaging.rabbitmq.destination.routing_key': 'ml.summarize',
      'messaging.message.id': 'm-1',
      'messaging.message.conversation_id': 'c-1',
      'messaging.message.body.size': published.content.byteLength,
      'server.address': 'fake',
      'server.port': 5672,
      'ferry.outcome': 'confirmed',
    });
    expect(span.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
    expect(span.spanContext().traceId).toBe(caller.spanContext().traceId);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.events).toEqual([]);
    // The header Celery reads is the span's own context, as top-level text.
    expect(published.properties.headers?.traceparent).toBe(traceparentOf(span.spanContext()));
  });

  it('continues a traceparent the caller put in the headers when no span is active, and carries baggage', async () => {
    const { producer, broker } = await startedRig();
    const given = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const baggage = propagation.createBaggage({ tenant: { value: 'acme' } });
    const receipt = await context.with(propagation.setBaggage(context.active(), baggage), () =>
      producer.publish(task(1, { headers: { traceparent: given, other: 'kept' } })),
    );
    const headers = broker.session.publishesOf('m-1')[0]!.properties.headers!;
    broker.session.ackAll();
    await outcomes([receipt]);
    const span = spanOf('m-1');
    expect(span.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(headers).toEqual({
      traceparent: traceparentOf(span.spanContext()),
      baggage: 'tenant=acme',
      other: 'kept',
    });
  });

  it('carries on a trace the caller did not sample, in its header, without recording a span', async () => {
    const { producer, broker } = await startedRig();
    const given = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
    const receipt = await producer.publish(task(1, { headers: { traceparent: given } }));
    const traceparent = broker.session.publishesOf('m-1')[0]!.properties.headers?.traceparent;
    broker.session.ackAll();
    await expect(outcomes([receipt])).resolves.toEqual(['confirmed']);
    // The sampler followed the caller: a span of its own (a new id), unsampled, and nothing exported.
    expect(traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/);
    expect(traceparent).not.toBe(given);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('names the default exchange’s destination by its routing key', async () => {
    const { producer, broker } = await startedRig();
    const receipt = await producer.publish(task(1, { exchange: '' }));
    broker.session.ackAll();
    await outcomes([receipt]);
    expect(spanOf('m-1').name).toBe('publish ml.summarize');
  });
});

describe('a fault is an event of the message’s one span', () => {
  it('a nack, then its retry', async () => {
    const { producer, broker } = await startedRig();
    const receipt = await producer.publish(task(1));
    broker.session.nack(1);
    await eventually(() => broker.session.publishesOf('m-1').length === 2, 'the retry');
    expect(exporter.getFinishedSpans()).toEqual([]);
    broker.session.ack(2);
    await expect(outcomes([receipt])).resolves.toEqual(['confirmed']);
    const span = spanOf('m-1');
    expect(eventNames(span)).toEqual(['ferry.nacked', 'ferry.retry']);
    expect(span.events[1]?.attributes).toEqual({ 'ferry.attempts': 1 });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('a return, then its retry', async () => {
    const { producer, broker } = await startedRig();
    const receipt = await producer.publish(task(1));
    broker.session.returnMessage('m-1');
    broker.session.ack(1);
    await eventually(() => broker.session.publishesOf('m-1').length === 2, 'the retry');
    broker.session.ack(2);
    await outcomes([receipt]);
    expect(eventNames(spanOf('m-1'))).toEqual(['ferry.returned', 'ferry.retry']);
  });

  it('a confirm timeout, then its retry', async () => {
    const { producer, broker } = await startedRig({ publish: { confirmTimeoutMs: 50 } });
    const receipt = await producer.publish(task(1));
    await eventually(() => broker.session.publishesOf('m-1').length === 2, 'the republish');
    broker.session.ack(2);
    await outcomes([receipt]);
    expect(eventNames(spanOf('m-1'))).toEqual(['ferry.confirm_timeout', 'ferry.retry']);
  });

  it('a requeue after the connection was lost, published again on the next one', async () => {
    const { producer, broker } = await startedRig();
    const receipt = await producer.publish(task(1));
    broker.session.dropConnection();
    await eventually(
      () => broker.sessions.length === 2 && broker.session.publishesOf('m-1').length === 1,
      'the republish',
    );
    broker.session.ackAll();
    await outcomes([receipt]);
    const span = spanOf('m-1');
    expect(eventNames(span)).toEqual(['ferry.requeued']);
    expect(span.events[0]?.attributes).toEqual({ 'ferry.failure.code': 'CONNECTION_LOST' });
  });

  it('retries, the dead-letter hand-off and parking; the span ends dead-lettered with error.type', async () => {
    const { producer, broker } = await startedRig({ retry: { maxAttempts: 2 } });
    const session = broker.session;
    const receipt = await producer.publish(task(1));
    session.nack(1);
    await eventually(() => session.publishesOf('m-1').length === 2, 'the retry');
    session.nack(2);
    const handOffs = () => session.publishesOf('m-1').filter((p) => p.exchange === DEAD_LETTER_EXCHANGE);
    await eventually(() => handOffs().length === 1, 'the hand-off');
    session.nack(handOffs()[0]!.tag);
    await eventually(() => handOffs().length === 2, 'the hand-off again, once parked');
    session.ack(handOffs()[1]!.tag);
    await expect(outcomes([receipt])).resolves.toEqual(['dead-lettered']);
    const span = spanOf('m-1');
    expect(eventNames(span)).toEqual([
      'ferry.nacked',
      'ferry.retry',
      'ferry.nacked',
      'ferry.nacked',
      'ferry.parked',
      'ferry.dead_lettered',
    ]);
    expect(span.attributes['error.type']).toBe('NACKED');
    expect(span.attributes['ferry.outcome']).toBe('dead-lettered');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('a message that was not accepted, or not settled', () => {
  it('ends its span with the error of a full buffer', async () => {
    const { producer } = rig({ buffer: { maxMessages: 1, timeoutMs: 10 } });
    await producer.publish(task(1));
    await expect(producer.publish(task(2))).rejects.toMatchObject({ code: 'BUFFER_FULL' });
    const span = spanOf('m-2');
    expect(span.attributes['error.type']).toBe('BUFFER_FULL');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('ends the span of a message in flight, and of one retrying, when the producer closes', async () => {
    const { producer, broker } = await startedRig();
    await producer.publish(task(1));
    await producer.publish(task(2));
    broker.session.nack(2);
    await eventually(() => broker.session.publishesOf('m-2').length === 2, 'the retry');
    expect(exporter.getFinishedSpans()).toEqual([]);
    await producer.close({ timeoutMs: 0 });
    // The close took the connection down under the unconfirmed writes: their outcome is unknown.
    expect(eventNames(spanOf('m-1'))).toEqual(['ferry.requeued', 'ferry.closed_unsettled']);
    expect(eventNames(spanOf('m-2'))).toEqual([
      'ferry.nacked',
      'ferry.retry',
      'ferry.requeued',
      'ferry.closed_unsettled',
    ]);
    expect(exporter.getFinishedSpans()).toHaveLength(2);
  });
});

describe('a message caught by the alternate exchange', () => {
  it('is traced again when taken back, linked to the span it was published in', async () => {
    const unroutable = { alternateExchange: 'tasks.ae', queue: 'tasks.unroutable', probeTimeoutMs: 100 };
    const caughtBy = new FakeBroker();
    caughtBy.alternateExchangeQueue = unroutable.queue;
    const { producer, broker } = await startedRig({ topology: { unroutable: unroutable } }, caughtBy);
    const session = broker.session;
    const receipt = await producer.publish(task(1));
    session.ackAll();
    await outcomes([receipt]);
    // The broker confirmed it into the alternate exchange: as far as ferry knew, it was delivered.
    const published = spanOf('m-1');
    exporter.reset();

    const original = session.publishesOf('m-1')[0]!;
    await session.deliver(unroutable.queue, { ...original, properties: original.properties });
    await eventually(() => session.publishesOf('m-1').length === 2, 'the retry');
    session.ack(session.publishesOf('m-1')[1]!.tag);
    await eventually(() => exporter.getFinishedSpans().length === 1, 'the span of the catch');
    const caught = spanOf('m-1');
    expect(caught.attributes['ferry.adopted_from']).toBe('alternate-exchange');
    expect(eventNames(caught)).toEqual(['ferry.returned', 'ferry.retry']);
    expect(caught.links.map((link) => link.context.spanId)).toEqual([published.spanContext().spanId]);
  });
});

describe('a message recovered from the journal', () => {
  const folder = mkdtempSync(join(tmpdir(), 'ferry-tracing-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('keeps its trace context, journaled in its headers, and its recovery span links to it', async () => {
    const journal = { kind: 'sqlite', path: join(folder, 'journal.db') } as const;
    // Accepted before start(): journaled, never sent; the producer closes with it unsettled.
    const first = createProducer({ ...FAST, journal }, { broker: new FakeBroker() });
    await first.publish(task(1));
    await first.close({ timeoutMs: 0 });
    const original = spanOf('m-1');
    expect(eventNames(original)).toEqual(['ferry.closed_unsettled']);
    exporter.reset();

    const broker = new FakeBroker();
    const second = createProducer({ ...FAST, journal }, { broker });
    try {
      await second.start();
      await eventually(() => broker.session.publishesOf('m-1').length === 1, 'the republish');
      const published = broker.session.publishesOf('m-1')[0]!;
      expect(published.properties.headers?.traceparent).toBe(traceparentOf(original.spanContext()));
      broker.session.ackAll();
      await eventually(() => exporter.getFinishedSpans().length === 1, 'the recovery span');
      const recovery = spanOf('m-1');
      expect(recovery.attributes['ferry.adopted_from']).toBe('journal');
      expect(recovery.parentSpanContext).toBeUndefined();
      expect(recovery.links.map((link) => link.context.spanId)).toEqual([original.spanContext().spanId]);
      expect(recovery.links[0]?.context.traceId).toBe(original.spanContext().traceId);
    } finally {
      await second.close({ timeoutMs: 0 });
    }
  });
});
