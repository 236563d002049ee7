/**
 * TLS against a throwaway node with a TLS listener and certificates made for this test: an `amqps://`
 * URL with the right CA (and a client certificate) publishes and confirms; a CA that did not sign the
 * server's certificate is a permanent configuration error, `TLS_ERROR`, not something to retry.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { drainQueue, report, score } from '../faults/support/scorer.js';
import { mergeOptions } from '../support/merge-options.js';
import { generateTestCertificates, type TestCertificates } from '../support/throwaway-broker.js';
import { uniqueTopology } from './support/broker-objects.js';
import { message, testProducer } from './support/producer.js';
import { useThrowawayBroker } from './support/throwaway.js';

let dir: string;
let good: TestCertificates;
let other: TestCertificates;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-it-tls-'));
  [good, other] = await Promise.all([
    generateTestCertificates(join(dir, 'good')),
    generateTestCertificates(join(dir, 'other')),
  ]);
}, 60_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const node = useThrowawayBroker(() => ({
  name: 'ferry-it-tls',
  tls: { cacertfile: good.caCertFile, certfile: good.serverCertFile, keyfile: good.serverKeyFile },
}));

function tlsUrl(): string {
  const { tls } = node.current();
  if (tls === undefined) throw new Error('the throwaway node has no TLS listener');
  return tls.url;
}

it('publishes and confirms over amqps:// with the right CA and a client certificate', async () => {
  const names = uniqueTopology('tls');
  const producer = testProducer(
    mergeOptions(names.producerOptions, {
      connection: {
        url: tlsUrl(),
        tls: {
          ca: await readFile(good.caCertFile),
          cert: await readFile(good.clientCertFile),
          key: await readFile(good.clientKeyFile),
          rejectUnauthorized: true,
        },
      },
    }),
  );
  await producer.start();
  expect(producer.status().connection.endpoint).toMatch(/^amqps:\/\//);
  const receipts = await producer.publishMany(
    Array.from({ length: 100 }, (_, n) => message(names.exchange, names.queue, 'tls', n)),
  );
  expect(await Promise.all(receipts.map((receipt) => receipt.settled))).toEqual(
    receipts.map(() => 'confirmed'),
  );
  await producer.close();
  const verdict = score(
    receipts.map((receipt) => receipt.messageId),
    await drainQueue(node.current().url, names.queue),
  );
  report('tls', verdict);
  expect(verdict).toMatchObject({ delivered: 100, lost: 0, duplicated: 0, unexpected: 0 });
}, 30_000);

it('rejects start() with a permanent TLS_ERROR when the CA did not sign the server certificate', async () => {
  const names = uniqueTopology('tls-wrong-ca');
  const producer = testProducer(
    mergeOptions(names.producerOptions, {
      connection: { url: tlsUrl(), tls: { ca: await readFile(other.caCertFile), rejectUnauthorized: true } },
    }),
  );
  const error = await producer.start().then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(FerryError);
  expect(error).toMatchObject({ code: 'TLS_ERROR', permanent: true });
  expect(producer.status().connection.phase).toBe('failed');
  expect(producer.status().connection.lastError?.code).toBe('TLS_ERROR');
}, 30_000);
