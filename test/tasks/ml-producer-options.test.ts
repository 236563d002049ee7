/**
 * The ML path asks for the ML topology in one call, while `createProducer`'s own default declares
 * nothing: checked on what each producer declares on connect, and on what the caller keeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildTopology, DEAD_LETTER_EXCHANGE, ML_EXCHANGE, ML_TOPOLOGY } from '../../src/amqp/topology.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { resolveOptions } from '../../src/producer/options.js';
import { createProducer, type Producer } from '../../src/producer/producer.js';
import type { ProducerOptions } from '../../src/producer/producer-options.js';
import { mlProducerOptions } from '../../src/tasks/ml-producer-options.js';
import { FakeBroker } from '../support/fake-broker.js';

const producers: Producer[] = [];
afterEach(async () => {
  for (const producer of producers.splice(0)) await producer.close({ timeoutMs: 0 });
});

/** What a started producer with `options` declared on its first connect. */
async function declaredBy(options: ProducerOptions) {
  const broker = new FakeBroker();
  const producer = createProducer(options, { broker, journal: new MemoryJournal() });
  producers.push(producer);
  await producer.start();
  return broker.session.declared;
}

describe('mlProducerOptions', () => {
  it('declares the ML topology, where a producer of default options declares nothing', async () => {
    expect(await declaredBy({})).toEqual([]);
    expect(await declaredBy(mlProducerOptions())).toEqual([ML_TOPOLOGY]);
  });

  it('sends dead letters to the ML dead-letter exchange and checks health against the task exchange', () => {
    const resolved = resolveOptions(mlProducerOptions());
    expect(resolved.deadLetterExchange).toBe(DEAD_LETTER_EXCHANGE);
    expect(resolved.healthCheckExchange).toBe(ML_EXCHANGE);
  });

  it("keeps the caller's options, their own topology fields over the ML ones", () => {
    const quorum = buildTopology({ deadLetterQueueType: 'quorum' });
    const options = mlProducerOptions({
      connection: { url: 'amqp://127.0.0.1:5673' },
      retry: { maxAttempts: 9 },
      topology: { declare: quorum, deadLetterExchange: undefined },
    });
    expect(options).toEqual({
      connection: { url: 'amqp://127.0.0.1:5673' },
      retry: { maxAttempts: 9 },
      // An unset field (`undefined`) keeps the ML value instead of erasing it.
      topology: { declare: quorum, deadLetterExchange: DEAD_LETTER_EXCHANGE },
    });
    expect(mlProducerOptions({ topology: { declare: false } }).topology?.declare).toBe(false);
  });
});
