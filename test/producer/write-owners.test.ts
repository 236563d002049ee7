/**
 * Each write of a message settles only its own outcome: a late answer to an earlier write of the same
 * message (a retry copy still in flight when its actor moved on to the dead-letter hand-off) goes to
 * that write's owner, never to the hand-off.
 */
import { expect, it } from 'vitest';
import { Accepted } from '../../src/producer/accepted.js';
import { Outbox } from '../../src/producer/outbox.js';
import { toOutboundMessage } from '../../src/producer/publish-request.js';
import { Publisher } from '../../src/producer/publisher.js';
import { WRITE, type WriteOwner } from '../../src/producer/write-owner.js';
import { FakeSession } from '../support/fake-broker.js';
import { task } from './helpers.js';

/** An owner that records what it heard. */
function recordingOwner(name: string, heard: string[]): WriteOwner {
  return {
    confirmed: (accepted) => heard.push(`${name} confirmed ${accepted.messageId}`),
    failed: (accepted, failure) => heard.push(`${name} failed ${accepted.messageId} ${failure.code}`),
    refused: (accepted, failure) => heard.push(`${name} refused ${accepted.messageId} ${failure.code}`),
    lost: (accepted, failure) => heard.push(`${name} lost ${accepted.messageId} ${failure.code}`),
  };
}

it('a late ack of a retry copy settles the retry, and the dead-letter hand-off only by its own ack', () => {
  const heard: string[] = [];
  const publisher = new Publisher(
    {
      outbox: new Outbox<Accepted>(10, 1_000_000),
      owners: {
        first: { confirmed: () => heard.push('first confirmed'), failed: () => heard.push('first failed') },
        actor: { retry: recordingOwner('retry', heard), deadLetter: recordingOwner('dead-letter', heard) },
      },
      breaker: { outcome: () => undefined, probeSent: () => undefined },
      reports: {
        answered: () => undefined,
        outcomeUnknown: () => undefined,
        connectionEvent: () => undefined,
        topologyMissing: () => undefined,
      },
    },
    {
      maxInFlight: 10,
      confirmTimeoutMs: 60_000,
      deadLetterExchange: 'dlx',
      now: Date.now,
      sizeRecheckMs: 1_000,
      unroutableCaught: null,
    },
  );
  const session = new FakeSession();
  session.setListener(publisher);
  publisher.attach(session);
  const accepted = new Accepted(
    toOutboundMessage(task(1), Date.now(), { maxMessageBytes: 1e6, appId: undefined, timestamp: false }),
  );

  expect(publisher.publishFor(accepted, WRITE.retry)).toBeUndefined();
  expect(publisher.publishFor(accepted, WRITE.deadLetter, { 'x-ferry-reason': 'NACKED' })).toBeUndefined();
  expect(session.published.map((p) => [p.tag, p.exchange])).toEqual([
    [1, 'tasks'],
    [2, 'dlx'],
  ]);

  session.ack(1);
  expect(heard).toEqual(['retry confirmed m-1']);
  session.nack(2);
  expect(heard).toEqual(['retry confirmed m-1', 'dead-letter failed m-1 NACKED']);
  publisher.stop();
});
