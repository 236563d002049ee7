/**
 * Broker-wide faults, on one throwaway node shared by the file's scenarios (never the shared broker):
 *
 * - disk alarm (`set_disk_free_limit 100000GB`, restored with `50MB`): the broker blocks publishing
 *   connections; `state$` shows `blocked`, accepting goes on, and everything is confirmed once the
 *   alarm clears. The disk monitor may take up to ~10 s to notice either change.
 * - oversized message (`max_message_size` lowered to 1 KiB): a larger publish is a 406 that closes the
 *   channel. The limit is read when a channel opens, so the scenario reconnects ferry after lowering
 *   it. ferry learns the limit from the 406: only the messages over it fail (`MESSAGE_TOO_LARGE`), later
 *   ones are refused before they are written, and every other message is confirmed. The oversized ones
 *   are parked while even their dead-letter hand-off is too large, and dead-lettered once the limit is
 *   back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { uniqueTopology } from '../integration/support/broker-objects.js';
import { message } from '../integration/support/producer.js';
import { useThrowawayBroker } from '../integration/support/throwaway.js';
import { mergeOptions } from '../support/merge-options.js';
import { faultProducer, faultSeed, runFault, SOAK, scenarioRandom } from './support/fault-run.js';

const seed = faultSeed('broker-limits');
const MESSAGES = SOAK ? 10_000 : 3_000;
/** RabbitMQ's default `max_message_size`, 128 MiB. */
const DEFAULT_MAX_MESSAGE_SIZE = 134_217_728;
const node = useThrowawayBroker({ name: 'ferry-faults-limits' });
const restore: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const undo of restore.splice(0)) await undo();
});

function setMaxMessageSize(bytes: number): Promise<string> {
  return node.current().ctl('eval', `application:set_env(rabbit, max_message_size, ${bytes}).`);
}

describe(`broker limits (seed ${seed})`, () => {
  it('disk alarm mid-stream: blocked, accepting goes on, everything confirmed once it clears', async () => {
    const broker = node.current();
    const names = uniqueTopology('fault-disk-alarm');
    const run = faultProducer(mergeOptions(names.producerOptions, { seed, connection: { url: broker.url } }));
    restore.push(() => broker.ctl('set_disk_free_limit', '50MB'));
    const result = await runFault({
      scenario: 'disk-alarm',
      run,
      names,
      brokerUrl: broker.url,
      random: scenarioRandom(seed, 'disk-alarm'),
      messages: MESSAGES,
      inject: async () => {
        await broker.ctl('set_disk_free_limit', '100000GB');
      },
      healWhen: (view) =>
        view.phases.entries.some((entry) => entry.phase === 'blocked' && entry.at >= view.injectedAt),
      heal: async () => {
        await broker.ctl('set_disk_free_limit', '50MB');
      },
      reconnects: false,
    });
    expect(result.phases).toContain('blocked');
    expect(result.verdict.duplicated).toBe(0);
  }, 120_000);

  it('oversized messages (406): only they are dead-lettered, every other message is confirmed', async () => {
    const broker = node.current();
    const names = uniqueTopology('fault-oversized');
    const random = scenarioRandom(seed, 'oversized');
    const run = faultProducer(
      mergeOptions(names.producerOptions, {
        seed,
        connection: { url: broker.url, reconnect: { maxAttempts: 1_000 } },
      }),
    );
    restore.push(() => setMaxMessageSize(DEFAULT_MAX_MESSAGE_SIZE));
    let limited = false;
    const oversized = new Set<string>();
    const result = await runFault({
      scenario: 'oversized-message',
      run,
      names,
      brokerUrl: broker.url,
      random,
      messages: MESSAGES,
      // Once the lowered limit is in force, about one message in 100 is 2 KiB.
      request: (n) => {
        const request = message(names.exchange, names.queue, 'oversized', n);
        if (!limited || random() >= 1 / 100) return request;
        oversized.add(request.messageId as string);
        return { ...request, body: { n, text: 'x'.repeat(2_048) } };
      },
      inject: async () => {
        await setMaxMessageSize(1_024);
        // The limit is read when a channel opens: a new connection makes ferry open new ones.
        await broker.ctl('close_all_connections', 'ferry fault test: max_message_size lowered');
        limited = true;
      },
      healWhen: (view) => oversized.size >= 2 && view.producer.status().connection.phase === 'connected',
      heal: async () => {
        await setMaxMessageSize(DEFAULT_MAX_MESSAGE_SIZE);
      },
      reconnects: true,
      workDuringFault:
        'an oversized publish closes the channel (the first, then one re-check per parkedRetryDelayMs) and its neighbours are republished',
    });
    // Once the limit is back, parked messages are handed off too: nothing is left with the journal.
    expect(result.verdict.held).toBe(0);
    expect(result.verdict.delivered + result.verdict.deadLettered).toBe(result.verdict.accepted);
    // Only the oversized messages fail: none of the others is dead-lettered beside them.
    const neighboursNotConfirmed = [...result.outcomes].filter(
      ([id, outcome]) => !oversized.has(id) && outcome !== 'confirmed',
    );
    expect(neighboursNotConfirmed).toEqual([]);
    expect(Object.keys(result.verdict.deadLetterReasons)).toEqual(['MESSAGE_TOO_LARGE']);
    console.log(
      '[ferry-faults] oversized outcomes:',
      JSON.stringify([...oversized].map((id) => [id, result.outcomes.get(id)])),
    );
  }, 120_000);
});
