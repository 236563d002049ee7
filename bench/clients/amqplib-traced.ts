/**
 * amqplib instrumented by hand to the messaging semantic conventions ferry's spans follow: what the
 * OpenTelemetry SDK costs a plain client doing the same tracing work as `ferry-memory-traced`, so that
 * the traced rows show how much of ferry's tracing cost is the SDK's and how much is ferry's.
 *
 * Per message, as ferry's happy path does: a PRODUCER span started in the active context, named
 * `publish {destination}`, with the destination's attributes shared by every span (system, operation
 * name and type, destination name, routing key, server address and port) and the message's id and
 * body size set after it started; its context injected by the global propagator into the headers as
 * top-level text; the span ended at the confirm, as an error with `error.type` at a nack or a lost
 * channel. It registers the same provider as ferry's traced client (a no-op span processor). Left out:
 * `ferry.outcome`, ferry's own attribute beyond the conventions (one `setAttribute` per message), and
 * ferry's batching of the header writes, which is ferry's own saving.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR,
  destinationName,
  OPERATION_NAME,
  OPERATION_TYPE,
  SYSTEM,
  serverOf,
} from '../../src/tracing/semconv.js';
import { registerNoopTracing } from '../noop-tracing.js';
import type { Target } from '../workload.js';
import { createHookedClient, type PublishHook } from './amqplib.js';

/** The instrumentation scope of the spans. */
const SCOPE = 'amqplib-bench';

/** `error.type` of a confirm callback's error: amqplib says `message nacked` for a nack. */
function errorType(error: unknown): string {
  return error instanceof Error && error.message === 'message nacked' ? 'NACKED' : 'CHANNEL_LOST';
}

/** The publish hook of one target: a span per message, its context in the headers. */
async function tracing(target: Target): Promise<PublishHook> {
  await registerNoopTracing();
  const tracer = trace.getTracer(SCOPE);
  const destination = destinationName(target.exchange, target.routingKey);
  const server = serverOf(target.url);
  const attributes = Object.freeze({
    [ATTR.system]: SYSTEM,
    [ATTR.operationName]: OPERATION_NAME,
    [ATTR.operationType]: OPERATION_TYPE,
    [ATTR.destination]: destination,
    ...(server === null ? {} : { [ATTR.serverAddress]: server.address, [ATTR.serverPort]: server.port }),
    ...(target.routingKey === '' ? {} : { [ATTR.routingKey]: target.routingKey }),
  });
  const name = `${OPERATION_NAME} ${destination}`;
  const spanOptions = { kind: SpanKind.PRODUCER, attributes };
  return (message, content, properties, done) => {
    const active = context.active();
    const span = tracer.startSpan(name, spanOptions, active);
    const headers: Record<string, unknown> = {};
    propagation.inject(trace.setSpan(active, span), headers);
    properties.headers = headers;
    if (!span.isRecording()) return done;
    span.setAttribute(ATTR.messageId, message.id);
    span.setAttribute(ATTR.bodySize, content.byteLength);
    return (error) => {
      if (error != null) {
        const type = errorType(error);
        span.setAttribute(ATTR.errorType, type);
        span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      }
      span.end();
      done(error);
    };
  };
}

/** amqplib with a PRODUCER span per message and its context in the headers, as ferry's traced client. */
export const createTracedClient = createHookedClient(tracing);
