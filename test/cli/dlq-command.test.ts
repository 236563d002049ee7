/**
 * `ferry dlq` against the shared broker, on objects of its own: an unroutable task ends in the
 * dead-letter queue with ferry's headers; `list` shows it without consuming it; once a queue is bound
 * for its routing key, `requeue` delivers it there with the same message id and removes the dead letter;
 * `purge` empties the queue, and only with `--yes`.
 */
import { randomBytes } from 'node:crypto';
import type { GetMessage } from 'amqplib';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { dlqCommand } from '../../src/cli/dlq-command.js';
import { DEAD_LETTER_HEADERS } from '../../src/producer/dead-letter-headers.js';
import {
  deleteTopology,
  SHARED_BROKER_URL,
  uniqueTopology,
  withChannel,
} from '../integration/support/broker-objects.js';
import { message, testProducer } from '../integration/support/producer.js';
import { mergeOptions } from '../support/merge-options.js';

const MAX_ATTEMPTS = 2;
const names = uniqueTopology('dlq-cli');
/** A routing key nothing is bound to until the requeue test binds the work queue to it. */
const UNBOUND = `dlq.unbound.${randomBytes(4).toString('hex')}`;

afterAll(() => deleteTopology(SHARED_BROKER_URL, names));
afterEach(() => {
  process.exitCode = undefined;
});

interface Run {
  readonly out: string;
  readonly err: string;
  readonly exitCode: number;
}

async function dlq(...args: string[]): Promise<Run> {
  let out = '';
  let err = '';
  process.exitCode = undefined;
  const root = new Command('ferry').exitOverride();
  root.addCommand(
    dlqCommand(
      { out: (text) => (out += text), err: (text) => (err += text) },
      { RABBITMQ_URL: SHARED_BROKER_URL },
    ),
  );
  await root.parseAsync(['dlq', ...args, '--queue', names.deadLetterQueue], { from: 'user' });
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { out, err, exitCode };
}

/** Takes every message off `queue` (acknowledged: they are gone afterwards). */
function takeAll(queue: string): Promise<GetMessage[]> {
  return withChannel(SHARED_BROKER_URL, async (channel) => {
    const taken: GetMessage[] = [];
    for (let got = await channel.get(queue); got !== false; got = await channel.get(queue)) {
      channel.ack(got);
      taken.push(got);
    }
    return taken;
  });
}

const depth = (queue: string): Promise<number> =>
  withChannel(SHARED_BROKER_URL, async (channel) => (await channel.checkQueue(queue)).messageCount);

describe('ferry dlq', () => {
  const requests = [0, 1].map((n) =>
    message(names.exchange, UNBOUND, `dlq-cli-${randomBytes(3).toString('hex')}`, n),
  );
  const [first, second] = requests.map((request) => request.messageId as string) as [string, string];

  it('lists unroutable tasks dead-lettered with their headers, without consuming them', async () => {
    const producer = testProducer(
      mergeOptions(names.producerOptions, { retry: { maxAttempts: MAX_ATTEMPTS } }),
    );
    await producer.start();
    const receipts = await producer.publishMany(requests);
    expect(await Promise.all(receipts.map((receipt) => receipt.settled))).toEqual([
      'dead-lettered',
      'dead-lettered',
    ]);
    await producer.close();

    const listed = await dlq('list', '--json');
    expect(listed.exitCode).toBe(0);
    const { letters } = JSON.parse(listed.out) as { letters: Record<string, unknown>[] };
    expect(letters.map((letter) => letter.messageId).sort()).toEqual([first, second].sort());
    for (const letter of letters) {
      expect(letter).toMatchObject({
        reason: 'RETURNED',
        attempts: MAX_ATTEMPTS,
        originalExchange: names.exchange,
        originalRoutingKey: UNBOUND,
      });
      expect(Date.parse(String(letter.firstAcceptedAt))).toBeLessThanOrEqual(
        Date.parse(String(letter.deadLetteredAt)),
      );
    }
    // Listing again sees the same messages: the first listing gave them back.
    expect(await depth(names.deadLetterQueue)).toBe(2);
    const plain = await dlq('list');
    expect(plain.out).toContain(first);
    expect(plain.out).toContain(UNBOUND);
  });

  it('requeues a dead letter to its original exchange and routing key once a queue is bound', async () => {
    await withChannel(SHARED_BROKER_URL, (channel) =>
      channel.bindQueue(names.queue, names.exchange, UNBOUND),
    );
    const run = await dlq(
      'requeue',
      '--id',
      first,
      '--dead-letter-exchange',
      names.deadLetterExchange,
      '--json',
    );
    expect(run.err).toBe('');
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.out)).toEqual({
      requeued: [{ messageId: first, exchange: names.exchange, routingKey: UNBOUND, outcome: 'confirmed' }],
      notFound: [],
    });

    const delivered = await takeAll(names.queue);
    expect(delivered.map((got) => got.properties.messageId)).toEqual([first]);
    const [again] = delivered as [GetMessage];
    expect(JSON.parse(again.content.toString('utf8'))).toEqual(requests[0]?.body);
    expect(Object.keys(again.properties.headers ?? {}).filter((name) => name.startsWith('x-ferry-'))).toEqual(
      [],
    );
    const left = await takeAllButKeep(names.deadLetterQueue);
    expect(left.map((got) => got.properties.messageId)).toEqual([second]);
    expect(left[0]?.properties.headers?.[DEAD_LETTER_HEADERS.reason]).toBe('RETURNED');
  });

  it('reports an id that is not there, and purges only with --yes', async () => {
    const unknown = await dlq('requeue', '--id', 'no-such-message', '--json');
    expect(unknown.exitCode).toBe(1);
    expect(JSON.parse(unknown.out)).toEqual({ requeued: [], notFound: ['no-such-message'] });

    const refused = await dlq('purge', '--all');
    expect(refused.exitCode).toBe(2);
    expect(refused.err).toContain('--yes');
    expect(await depth(names.deadLetterQueue)).toBe(1);

    const purged = await dlq('purge', '--all', '--yes', '--json');
    expect(purged.exitCode).toBe(0);
    expect(JSON.parse(purged.out)).toEqual({ purged: 1 });
    expect(await depth(names.deadLetterQueue)).toBe(0);
  });
});

/** The messages of `queue`, left in it (fetched, then requeued). */
function takeAllButKeep(queue: string): Promise<GetMessage[]> {
  return withChannel(SHARED_BROKER_URL, async (channel) => {
    const seen: GetMessage[] = [];
    for (let got = await channel.get(queue); got !== false; got = await channel.get(queue)) seen.push(got);
    channel.nackAll(true);
    return seen;
  });
}
