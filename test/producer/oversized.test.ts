/**
 * A message over the broker's `max_message_size`: the broker's 406 closes the whole confirm channel
 * without naming it. ferry learns the limit from the 406 text, fails only the messages over it, puts
 * their neighbours back, and refuses larger messages before writing them from then on.
 *
 * The producer's clock stands still unless a test moves it: the learned limit is re-checked (one larger
 * message written anyway) only once `parkedRetryDelayMs` has passed on that clock.
 */

import { afterEach, expect, it } from 'vitest';
import { fromAmqplib } from '../../src/amqp/amqplib-errors.js';
import { DEAD_LETTER_EXCHANGE } from '../../src/amqp/topology.js';
import { FerryError } from '../../src/errors.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { DEAD_LETTER_HEADERS } from '../../src/producer/dead-letter-headers.js';
import type { ProducerOptions } from '../../src/producer/options.js';
import { createProducer, type Producer } from '../../src/producer/producer.js';
import { FakeBroker, type FakeSession } from '../support/fake-broker.js';
import { mergeOptions } from '../support/merge-options.js';
import { eventually, FAST, ids, outcomes, task } from './helpers.js';

const LIMIT = 1_024;
const made: Producer[] = [];

afterEach(async () => {
  for (const producer of made.splice(0)) await producer.close({ timeoutMs: 0 });
});

/** A started producer on a fake broker whose clock moves only when the test says so. */
async function clockedRig(options: ProducerOptions = {}) {
  const clock = { now: 1_700_000_000_000 };
  const broker = new FakeBroker();
  const journal = new MemoryJournal();
  const producer = createProducer(mergeOptions(FAST, options), { broker, journal, now: () => clock.now });
  made.push(producer);
  await producer.start();
  return { producer, broker, journal, clock, session: broker.session };
}

/** Message `n` with a body over {@link LIMIT}. */
function oversized(n: number) {
  return task(n, { body: { n, text: 'x'.repeat(2 * LIMIT) } });
}

/** The error the amqplib adapter reports when the broker refuses a publish of `size` bytes. */
function sizeRefusal(size: number, limit = LIMIT): FerryError {
  const error = Object.assign(
    new Error(
      `Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - message size ${size} is larger than configured max size ${limit}"`,
    ),
    { code: 406, classId: 60, methodId: 40 },
  );
  return fromAmqplib(error, 'CHANNEL_LOST');
}

function sizeOf(session: FakeSession, messageId: string): number {
  return session.publishesOf(messageId)[0]!.content.byteLength;
}

function actorContext(producer: Producer, messageId: string) {
  return producer.supervisor.getSnapshot().children[`msg:${messageId}`]?.getSnapshot().context as
    | { attempts: number; lastFailure: { code: string; message: string; permanent: boolean } }
    | undefined;
}

it('learns the limit from the 406: only the oversized message fails, its neighbours are republished and confirmed', async () => {
  const { producer, session } = await clockedRig();
  const receipts = [
    await producer.publish(task(1)),
    await producer.publish(oversized(2)),
    await producer.publish(task(3)),
  ];
  expect(ids(session.published)).toEqual(['m-1', 'm-2', 'm-3']);

  session.closeChannel(sizeRefusal(sizeOf(session, 'm-2')));
  await eventually(() => session.published.filter((p) => p.channel === 2).length === 2, 'the neighbours');
  // Back at the front of the outbox, in order, without a message actor or a used attempt.
  expect(ids(session.published.filter((p) => p.channel === 2))).toEqual(['m-1', 'm-3']);
  expect(actorContext(producer, 'm-1')).toBeUndefined();
  expect(actorContext(producer, 'm-3')).toBeUndefined();

  // The oversized one fails for good; its dead-letter hand-off is as large, so it is parked unwritten.
  await eventually(() => producer.status().messages.parked === 1, 'the oversized message to be parked');
  expect(actorContext(producer, 'm-2')?.lastFailure).toMatchObject({
    code: 'MESSAGE_TOO_LARGE',
    permanent: true,
  });
  expect(session.publishesOf('m-2')).toHaveLength(1);
  expect(session.channelNumber).toBe(2);

  session.ackAll();
  await expect(outcomes([receipts[0]!, receipts[2]!])).resolves.toEqual(['confirmed', 'confirmed']);
  expect(producer.status().messages).toMatchObject({ confirmed: 2, deadLettered: 0, retrying: 0, parked: 1 });
  // A message's size is no sign of a sick broker.
  expect(producer.status().circuitBreaker.consecutiveFailures).toBe(0);
});

it('refuses a later oversized message locally: nothing reaches the session and the channel stays open', async () => {
  const { producer, session } = await clockedRig();
  await producer.publish(oversized(1));
  session.closeChannel(sizeRefusal(sizeOf(session, 'm-1')));
  await eventually(() => producer.status().messages.parked === 1, 'the first oversized message parked');
  const written = session.published.length;

  await producer.publish(oversized(2));
  const small = await producer.publish(task(3));
  await eventually(() => producer.status().messages.parked === 2, 'the later oversized message parked');
  expect(session.publishesOf('m-2')).toEqual([]);
  expect(ids(session.published.slice(written))).toEqual(['m-3']);
  expect(actorContext(producer, 'm-2')?.lastFailure).toMatchObject({
    code: 'MESSAGE_TOO_LARGE',
    message: expect.stringContaining(`max message size ${LIMIT}`),
  });

  session.ackAll();
  await expect(outcomes([small])).resolves.toEqual(['confirmed']);
  expect(session.channelNumber).toBe(2);
  // Parked, not dropped: the journal still owns it.
  expect(producer.status().messages.journalPending).toBe(2);
});

it('refuses a retry and a dead-letter hand-off over the learned limit without writing them', async () => {
  const { producer, session } = await clockedRig({ retry: { initialDelayMs: 100, maxDelayMs: 100 } });
  await producer.publish(oversized(1));
  // Nacked before any limit was known: it waits for its retry.
  session.nack(1);
  await eventually(() => producer.status().messages.retrying === 1, 'the retry to be scheduled');
  // Meanwhile another channel learns the limit (nothing over it was in flight there).
  session.closeChannel(sizeRefusal(2 * LIMIT + 100));

  await eventually(() => producer.status().messages.parked === 1, 'the message to be parked');
  expect(session.publishesOf('m-1')).toHaveLength(1);
  expect(actorContext(producer, 'm-1')?.lastFailure).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
});

it('re-checks the limit once per parkedRetryDelayMs and forgets it once the broker takes a larger message', async () => {
  const { producer, session, clock } = await clockedRig();
  const receipt = await producer.publish(oversized(1));
  session.closeChannel(sizeRefusal(sizeOf(session, 'm-1')));
  await eventually(() => producer.status().messages.parked === 1, 'the message to be parked');
  const deadLetters = () => session.publishesOf('m-1').filter((p) => p.exchange === DEAD_LETTER_EXCHANGE);
  expect(deadLetters()).toEqual([]);

  // Time for a re-check: the parked hand-off is written; the limit still holds and the broker says so.
  clock.now += FAST.retry?.parkedDelayMs as number;
  await eventually(() => deadLetters().length === 1, 'the re-check');
  session.closeChannel(sizeRefusal(sizeOf(session, 'm-1')));
  await eventually(() => session.channelNumber === 3, 'the channel to be reopened');
  await eventually(() => producer.status().messages.parked === 1, 'the message to be parked again');
  expect(deadLetters()).toHaveLength(1);

  // An operator raised the limit: the next re-check is confirmed, and the message is dead-lettered.
  clock.now += FAST.retry?.parkedDelayMs as number;
  await eventually(() => deadLetters().length === 2, 'the second re-check');
  expect(deadLetters()[1]!.properties.headers).toMatchObject({
    [DEAD_LETTER_HEADERS.reason]: 'MESSAGE_TOO_LARGE',
  });
  session.ackAll();
  await expect(outcomes([receipt])).resolves.toEqual(['dead-lettered']);

  // The limit is forgotten: a larger message is written again at once.
  await producer.publish(oversized(2));
  await eventually(() => session.publishesOf('m-2').length === 1, 'the larger message to be written');
});

it('a size refusal whose text names no limit closes the channel like any other', async () => {
  const { producer, session } = await clockedRig();
  await producer.publishMany([task(1), oversized(2)]);
  session.closeChannel(new FerryError('MESSAGE_TOO_LARGE', 'PRECONDITION_FAILED - message too large'));

  await eventually(() => producer.status().messages.retrying === 2, 'both messages to be retried');
  expect(actorContext(producer, 'm-1')?.lastFailure.code).toBe('CHANNEL_LOST');
  expect(actorContext(producer, 'm-2')?.lastFailure.code).toBe('CHANNEL_LOST');
});
