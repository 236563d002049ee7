/**
 * Conversions between the broker port's terms and amqplib's: publish options, consumed deliveries and
 * the fields of a `basic.return`.
 */
import type { Message, Options } from 'amqplib';
import { defined } from '../defined.js';
import type { Delivery, PublishProperties } from './ports.js';

/**
 * amqplib's options for one publish. Every field is always present (undefined ones are skipped by
 * amqplib's encoder), so the object has one shape: measured here, `{ ...properties, mandatory: true }`
 * cost 2–8 µs more per publish than this literal.
 */
export function publishOptions(properties: PublishProperties, mandatory: boolean): Options.Publish {
  return {
    mandatory,
    persistent: properties.persistent,
    messageId: properties.messageId,
    correlationId: properties.correlationId,
    contentType: properties.contentType,
    contentEncoding: properties.contentEncoding,
    headers: properties.headers,
    timestamp: properties.timestamp,
    expiration: properties.expiration,
    priority: properties.priority,
    type: properties.type,
    appId: properties.appId,
  } as Options.Publish;
}

/**
 * One `basic.publish` as amqplib's encoder reads it: the method's fields and the message's properties
 * in one object, as `Args.publish` builds them inside amqplib's `Channel#publish`. Built here, a publish
 * goes to the channel's `sendMessage` (see `framedPublish` in amqplib-internals.ts) and skips
 * `Args.publish`, which makes the caller's headers object the prototype of a fresh one
 * (`Object.create(headers)`): for a headers object of its own per message, as a traced message's is
 * (its `traceparent`), V8 turns each into a prototype with a map of its own, ≈3 µs per message here
 * and old-generation garbage. The encoder reads only these fields, and writes the same bytes.
 */
export interface PublishFrame {
  readonly exchange: string;
  readonly routingKey: string;
  readonly mandatory: boolean;
  readonly immediate: false;
  readonly ticket: undefined;
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly deliveryMode: 1 | 2 | undefined;
  readonly priority: number | undefined;
  readonly correlationId: string | undefined;
  readonly replyTo: undefined;
  readonly expiration: string | undefined;
  readonly messageId: string | undefined;
  readonly timestamp: number | undefined;
  readonly type: string | undefined;
  readonly userId: undefined;
  readonly appId: string | undefined;
  readonly clusterId: undefined;
}

/** What `Args.publish` gives a publish without headers: an empty table, on the wire too. */
const NO_HEADERS: Readonly<Record<string, unknown>> = Object.freeze(Object.create(null));

/**
 * The {@link PublishFrame} of a publish: what `Args.publish(exchange, routingKey, publishOptions(...))`
 * gives, field for field (test/amqp/publish-frame.test.ts compares the encoded bytes).
 */
export function publishFrame(
  exchange: string,
  routingKey: string,
  properties: PublishProperties,
  mandatory: boolean,
): PublishFrame {
  const { persistent, expiration } = properties;
  return {
    exchange,
    routingKey,
    mandatory,
    immediate: false,
    ticket: undefined,
    contentType: properties.contentType,
    contentEncoding: properties.contentEncoding,
    headers: properties.headers ?? NO_HEADERS,
    deliveryMode: persistent === undefined ? undefined : persistent ? 2 : 1,
    priority: properties.priority,
    correlationId: properties.correlationId,
    replyTo: undefined,
    expiration: expiration === undefined ? undefined : String(expiration),
    messageId: properties.messageId,
    timestamp: properties.timestamp,
    type: properties.type,
    userId: undefined,
    appId: properties.appId,
    clusterId: undefined,
  };
}

/** A consumed message in the port's terms; amqplib's properties carry `deliveryMode`, not `persistent`. */
export function toDelivery(message: Message): Delivery {
  const { properties } = message;
  return {
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
    content: message.content,
    properties: defined({
      messageId: properties.messageId,
      correlationId: properties.correlationId,
      contentType: properties.contentType,
      contentEncoding: properties.contentEncoding,
      headers: properties.headers,
      timestamp: properties.timestamp,
      persistent: properties.deliveryMode === 2 ? true : undefined,
      expiration: properties.expiration === undefined ? undefined : Number(properties.expiration),
      priority: properties.priority,
      type: properties.type,
      appId: properties.appId,
    }),
  };
}

/** A return's fields; amqplib's `MessageFields` type describes deliveries only. */
export interface ReturnFields {
  readonly replyCode: number;
  readonly replyText: string;
}

/** Reads a return's reply code and text from the fields amqplib types as a delivery's. */
export function returnFields(fields: object): ReturnFields {
  const replyCode: unknown = Reflect.get(fields, 'replyCode');
  const replyText: unknown = Reflect.get(fields, 'replyText');
  return {
    replyCode: typeof replyCode === 'number' ? replyCode : 0,
    replyText: typeof replyText === 'string' ? replyText : '',
  };
}
