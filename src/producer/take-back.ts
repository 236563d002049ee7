/**
 * Taking back a message the alternate exchange caught: the broker confirmed it, but it reached no
 * worker queue. It is accepted again under its id and fails as a return would have: retried (the
 * topology is declared again first), then dead-lettered once its catches used up `maxAttempts`.
 *
 * Idempotent per message: a caught copy of a message this producer already retries (the same catch
 * delivered again after its consumer's channel died, or a copy of an earlier write) is acked without a
 * second record; the message's actor owns it and will end it.
 *
 * @internal
 */
import { randomUUID } from 'node:crypto';
import type { Delivery } from '../amqp/ports.js';
import { FerryError } from '../errors.js';
import type { Journal } from '../journal/journal.js';
import type { MessageProperties } from '../message/outbound-message.js';
import { Accepted } from './accepted.js';
import type { Ledger } from './ledger.js';
import { addOptionalProperties, type OptionalProperties } from './publish-request.js';
import type { Publisher } from './publisher.js';
import type { Retries } from './retries.js';
import { CAUGHT_HEADER, caughtCount } from './unroutable-catcher.js';

/** What {@link takeBackCaught} works with. */
export interface TakeBackDependencies {
  readonly journal: Journal;
  readonly publisher: Publisher;
  readonly retries: Retries;
  readonly ledger: Ledger;
}

/** The options applied to a taken-back message, and the queue named in its failure. */
export interface TakeBackSettings extends OptionalProperties {
  readonly unroutableQueue: string;
}

/**
 * Takes back one caught delivery; resolves once the journal holds it (then the delivery is acked).
 *
 * @returns whether a new record was made (`false`: the message was already retrying here).
 */
export async function takeBackCaught(
  delivery: Delivery,
  dependencies: TakeBackDependencies,
  settings: TakeBackSettings,
): Promise<boolean> {
  const { journal, publisher, retries, ledger } = dependencies;
  const { properties } = delivery;
  const messageId = properties.messageId ?? randomUUID();
  // Its confirm can still be on the way: the journal must see the first write finish before the copy.
  await publisher.inFlightWith(messageId)?.settled.catch(() => undefined);
  if (retries.holds(messageId)) return false;
  const caughtBefore = caughtCount(properties.headers);
  const now = ledger.now();
  // Taken as ferry would have sent it: whatever another publisher left out gets ferry's defaults.
  const taken: MessageProperties = {
    ...properties,
    messageId,
    headers: { ...properties.headers, [CAUGHT_HEADER]: caughtBefore + 1 },
    contentType: properties.contentType ?? 'application/octet-stream',
    persistent: true,
  };
  addOptionalProperties(taken, settings, now);
  const accepted = new Accepted({
    messageId,
    exchange: delivery.exchange,
    routingKey: delivery.routingKey,
    content: delivery.content,
    acceptedAt: now,
    properties: taken,
  });
  journal.append({ type: 'accepted', message: accepted.message });
  await journal.commit();
  // The commit gave another delivery of the same catch its turn: the first one to get here owns it.
  if (retries.holds(messageId)) return false;
  ledger.caught(accepted);
  // Each catch used up an attempt, those of earlier copies included: the count travels in a header.
  retries.takeOver(
    accepted,
    new FerryError(
      'RETURNED',
      `the message was unroutable (caught by the alternate exchange into ${settings.unroutableQueue})`,
      { details: { messageId } },
    ),
    caughtBefore + 1,
  );
  return true;
}
