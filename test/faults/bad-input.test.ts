/**
 * Bad input from callers, fuzzed with fast-check through every door ferry has: the library
 * (`publish`, `publishMany`, `createProducer` options), the HTTP service (random methods, paths,
 * content types and bodies) and the CLI (`ferry publish` with random arguments). Every bad input gets
 * a typed answer — a `FerryError` with its code, an HTTP 4xx with a JSON error, exit code 2 — nothing
 * crashes, and what was accepted before (and any input that happened to be valid) is still confirmed.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { FerryError } from '../../src/errors.js';
import { createProducer, type Producer } from '../../src/producer/producer.js';
import type { PublishReceipt } from '../../src/producer/receipt.js';
import { createService, type Service } from '../../src/service/server.js';
import { createMlTasks } from '../../src/tasks/ml-tasks.js';
import {
  deleteTopology,
  SHARED_BROKER_URL,
  uniqueTopology,
  withChannel,
} from '../integration/support/broker-objects.js';
import { FAST_OPTIONS, message } from '../integration/support/producer.js';
import { mergeOptions } from '../support/merge-options.js';
import { closedPort } from './support/fault-proxy.js';
import { faultSeed } from './support/fault-run.js';
import { drainQueue, report, score } from './support/scorer.js';

const seed = faultSeed('bad-input');
const RUNS = 150;
const BEFORE = 200;
const names = uniqueTopology('fault-bad-input');
let producer: Producer;
let before: PublishReceipt[];
/** Everything accepted while fuzzing: fuzzed inputs that happened to be valid. */
const acceptedIds: string[] = [];

beforeAll(async () => {
  // Not faultProducer(): that one is closed after each test, and this one serves the whole file.
  producer = createProducer(mergeOptions(FAST_OPTIONS, names.producerOptions, { seed }));
  await producer.start();
  // The ML task routes publish to `ml.*` keys: route them all to the test's queue.
  await withChannel(SHARED_BROKER_URL, (channel) => channel.bindQueue(names.queue, names.exchange, '#'));
  before = await producer.publishMany(
    Array.from({ length: BEFORE }, (_, n) => message(names.exchange, names.queue, 'before', n)),
  );
}, 30_000);

afterAll(async () => {
  // Messages accepted before the fuzzing, and fuzzed ones that were valid, are all confirmed.
  const outcomes = await Promise.all(before.map((receipt) => receipt.settled));
  expect(outcomes.every((outcome) => outcome === 'confirmed')).toBe(true);
  await producer.close();
  const ids = [...before.map((receipt) => receipt.messageId), ...acceptedIds];
  const verdict = score(ids, await drainQueue(SHARED_BROKER_URL, names.queue), {
    deadLetters: await drainQueue(SHARED_BROKER_URL, names.deadLetterQueue),
  });
  report('bad-input', verdict, { fuzzRuns: RUNS, acceptedWhileFuzzing: acceptedIds.length });
  await deleteTopology(SHARED_BROKER_URL, names);
  expect(verdict).toMatchObject({ lost: 0, unexpected: 0, duplicated: 0 });
  expect(verdict.delivered).toBe(ids.length);
}, 60_000);

const params = { seed, numRuns: RUNS };

/** Whatever a caller might pass where a field is expected. */
const junk = fc.oneof(
  fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true }),
  fc.string({ maxLength: 300 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(undefined, null, '', -1, 256, 1.5, Number.NaN, Number.POSITIVE_INFINITY),
);

/** A request with the right destination and junk (or absent) fields otherwise. */
const junkRequest = fc.record(
  {
    exchange: fc.oneof(fc.constant(names.exchange), junk),
    routingKey: fc.oneof(fc.constant(names.queue), junk),
    body: junk,
    messageId: junk,
    correlationId: junk,
    headers: junk,
    contentType: junk,
    priority: junk,
    expirationMs: junk,
  },
  { requiredKeys: [] },
);

/** Accepted (and then owed a confirm) or refused with INVALID_MESSAGE; anything else fails the run. */
async function acceptedOrInvalid(attempt: () => Promise<PublishReceipt | PublishReceipt[]>): Promise<void> {
  try {
    const receipts = [await attempt()].flat();
    for (const receipt of receipts) {
      // Valid by chance: it must reach the queue. Only the right destination routes there.
      acceptedIds.push(receipt.messageId);
    }
  } catch (error) {
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('INVALID_MESSAGE');
  }
}

describe(`bad input (seed ${seed})`, () => {
  it('publish(): junk requests are refused with INVALID_MESSAGE, or accepted and delivered', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(junkRequest, junk), async (request) => {
        await acceptedOrInvalid(() => producer.publish(routable(request) as never));
      }),
      params,
    );
  }, 60_000);

  it('publishMany(): a batch with one junk request is refused whole, or accepted whole', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.array(fc.oneof(junkRequest, junk), { maxLength: 5 }), junk),
        async (batch) => {
          const requests = Array.isArray(batch) ? batch.map(routable) : batch;
          const accepted = producer.status().messages.accepted;
          await acceptedOrInvalid(() => producer.publishMany(requests as never));
          const added = producer.status().messages.accepted - accepted;
          expect([0, Array.isArray(requests) ? requests.length : 0]).toContain(added);
        },
      ),
      params,
    );
  }, 60_000);

  it('createProducer(): junk options are refused with INVALID_OPTIONS naming the field, or accepted', async () => {
    const optionNames = [
      'connection',
      'retry',
      'breaker',
      'buffer',
      'publish',
      'topology',
      'journal',
      'seed',
      'closeTimeoutMs',
      // Flat names from before the groups: refused like any unknown option.
      'url',
      'maxInFlight',
      'unknownOption',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom(...optionNames), junk, { maxKeys: 4 }),
        async (options) => {
          let made: Producer | undefined;
          try {
            made = createProducer(options as never);
          } catch (error) {
            expect(error).toBeInstanceOf(FerryError);
            expect((error as FerryError).code).toBe('INVALID_OPTIONS');
            const problems = ((error as FerryError).details?.problems ?? []) as string[];
            expect(problems.length).toBeGreaterThan(0);
          } finally {
            await made?.close({ timeoutMs: 0 });
          }
        },
      ),
      params,
    );
  }, 60_000);
});

describe(`HTTP service: random requests (seed ${seed})`, () => {
  let service: Service;
  let base: string;

  beforeAll(async () => {
    service = createService({ tasks: createMlTasks(producer, { exchange: names.exchange }) });
    const address = await service.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    // Not service.shutdown(): that closes the producer the score still needs.
    await new Promise<void>((resolve) => service.server.close(() => resolve()));
  });

  const taskPath = fc
    .tuple(
      fc.oneof(fc.constant('s-1'), fc.string({ maxLength: 20 })),
      fc.constantFrom('summarize', 'transcribe', 'embed', 'other'),
    )
    .map(([shareId, task]) => `/api/shares/${encodeURIComponent(shareId)}/ml/${task}`);
  const path = fc.oneof(
    taskPath,
    fc.constantFrom(
      '/',
      '/health/live',
      '/health/ready',
      '/api/ml/metrics/json',
      '/api/shares//ml/embed',
      '/%',
      '/api/shares/%zz/ml/embed',
    ),
    fc.webPath(),
  );
  const body = fc.oneof(
    fc.json(),
    fc.string({ maxLength: 200 }),
    fc.constant(''),
    fc
      .record(
        {
          content: fc.oneof(fc.record({ text: fc.string() }), junk),
          mediaUrl: junk,
          options: junk,
          correlationId: junk,
          eta: junk,
        },
        { requiredKeys: [] },
      )
      .map(
        (value) => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ?? '',
      ),
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'text/plain',
    'application/x-www-form-urlencoded',
    undefined,
  );

  const randomRequest = fc.tuple(
    fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
    path,
    body,
    contentType,
  );
  /** A well-formed task with random text and maybe junk options: accepted, or refused for the options. */
  const taskRequest = fc.tuple(
    fc.constant('POST'),
    fc
      .string({ minLength: 1, maxLength: 20 })
      .map((id) => `/api/shares/${encodeURIComponent(id)}/ml/summarize`),
    fc
      .record(
        { content: fc.record({ text: fc.string({ minLength: 1 }) }), options: junk },
        { requiredKeys: ['content'] },
      )
      .map((value) => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? String(v) : v))),
    fc.constant('application/json'),
  );

  it('every request gets an answer below 500; errors are JSON with a code; 202s are delivered', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(randomRequest, taskRequest),
        async ([method, requestPath, requestBody, type]) => {
          const hasBody = method !== 'GET' && requestBody !== '';
          const response = await fetch(base + requestPath, {
            method,
            headers: type === undefined ? {} : { 'content-type': type },
            ...(hasBody ? { body: requestBody } : {}),
          });
          const text = await response.text();
          expect(response.status, `${method} ${requestPath} ${text}`).toBeLessThan(500);
          if (response.status >= 400) {
            expect(response.headers.get('content-type')).toMatch(/^application\/json/);
            expect(JSON.parse(text)).toMatchObject({
              error: { code: expect.any(String), message: expect.any(String) },
            });
          }
          if (response.status === 202)
            acceptedIds.push((JSON.parse(text) as { messageId: string }).messageId);
        },
      ),
      params,
    );
    // Still serving, and some of the requests were tasks it accepted (delivered: see afterAll).
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect(acceptedIds.length).toBeGreaterThan(0);
  }, 120_000);
});

describe(`CLI: ferry publish with random arguments (seed ${seed})`, () => {
  const words = fc.oneof(
    fc.constantFrom(
      'summarize',
      'transcribe',
      'embed',
      'bogus',
      'share-1',
      '--text',
      '--content',
      '--media-url',
      '--options',
      '--correlation-id',
      '--traceparent',
      '--journal',
      'memory',
      'redis://',
      'sqlite:',
      '--nope',
      '-x',
      '{',
      '{"text":"hi"}',
      '[]',
      'null',
      '--timeout',
      'abc',
    ),
    fc.string({ maxLength: 20 }),
  );

  it('bad arguments exit 2 with a message, never crash; nothing is confirmed without a broker', async () => {
    // No broker behind the URL: the CLI must not touch the shared broker's default topology.
    vi.stubEnv('RABBITMQ_URL', `amqp://guest:guest@127.0.0.1:${await closedPort()}`);
    vi.stubEnv('FERRY_JOURNAL', undefined);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const exitCode = process.exitCode;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(words, { maxLength: 6 }), async (args) => {
          process.exitCode = undefined;
          stderr.mockClear();
          await runCli(['node', 'ferry', 'publish', ...args, '--timeout', '20']);
          const code = process.exitCode as number | undefined;
          const said = stderr.mock.calls.map(([chunk]) => String(chunk)).join('');
          // Valid by chance: not confirmed (no broker) → 1. Anything else is invalid input → 2.
          expect([1, 2]).toContain(code);
          expect(said.length).toBeGreaterThan(0);
          // Options may come first (`--text summarize summarize s-1` is valid): without a kind anywhere
          // the command cannot be valid.
          if (!args.some((arg) => ['summarize', 'transcribe', 'embed'].includes(arg))) expect(code).toBe(2);
        }),
        { seed, numRuns: 60 },
      );
    } finally {
      process.exitCode = exitCode;
      stderr.mockRestore();
      stdout.mockRestore();
      vi.unstubAllEnvs();
    }
  }, 120_000);
});

/**
 * A string destination becomes the test's own, so that a request accepted by chance routes to the
 * queue (another exchange would be a 404); other junk destinations stay, and must be refused.
 */
function routable(request: unknown): unknown {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return request;
  const { exchange, routingKey } = request as { exchange?: unknown; routingKey?: unknown };
  return {
    ...request,
    ...(typeof exchange === 'string' ? { exchange: names.exchange } : {}),
    ...(typeof routingKey === 'string' ? { routingKey: names.queue } : {}),
  };
}
