/**
 * A journal that cannot open yet opens later (issue 21, item 4): tried again with backoff, its status
 * says why meanwhile, and what was refused while it was not open is not counted as pending.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Journal } from '../../src/journal/journal.js';
import { JournalError } from '../../src/journal/journal-error.js';
import { withOpenRetry } from '../../src/journal/open-retry.js';
import { RedisJournal } from '../../src/journal/redis-journal.js';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { createProducer, type Producer } from '../../src/producer/producer.js';
import { FaultProxy } from '../faults/support/fault-proxy.js';
import { FakeBroker } from '../support/fake-broker.js';
import { outbound } from './fixtures.js';
import { deletePrefix, REDIS_URL, rawRedis, uniquePrefix } from './redis-support.js';

const root = mkdtempSync(join(tmpdir(), 'ferry-open-retry-'));
let dirs = 0;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A journal path in a folder that does not exist yet, and the function that creates the folder. */
function lateFolder(): { path: string; create: () => void } {
  const dir = join(root, `later-${++dirs}`, 'journal');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { path: join(dir, 'ferry.db'), create: () => mkdirSync(dir, { recursive: true }) };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function refusal(promise: Promise<unknown>): Promise<JournalError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(JournalError);
  return error as JournalError;
}

function wrapped(inner: Journal): Journal {
  const journal = withOpenRetry(inner, { initialDelayMs: 10, maxDelayMs: 40, onError: () => undefined });
  cleanups.push(() => journal.close());
  return journal;
}

describe('a journal that cannot open yet', () => {
  it('sqlite: opens once its folder exists, refusing (and not counting) commits until then', async () => {
    const folder = lateFolder();
    const journal = wrapped(new SqliteJournal({ path: folder.path }));
    const opened = journal.open();
    await until(() => journal.status?.().state === 'failed', 'a failed attempt');
    expect(journal.status?.().lastError?.code).toBe('JOURNAL_UNAVAILABLE');

    journal.append({ type: 'accepted', message: outbound('refused') });
    expect((await refusal(journal.commit())).code).toBe('JOURNAL_UNAVAILABLE');
    expect(journal.pendingCount()).toBe(0);

    folder.create();
    expect(await opened).toEqual([]);
    expect(journal.status?.()).toMatchObject({ state: 'open', lastError: null });
    expect(journal.status?.().failedAttempts).toBeGreaterThan(0);
    journal.append({ type: 'accepted', message: outbound('kept') });
    await journal.commit();
    expect(journal.pendingCount()).toBe(1);
  });

  it('redis: opens once Redis answers', async () => {
    const proxy = await FaultProxy.start({ targetPort: 6379 });
    cleanups.push(() => proxy.stop());
    proxy.refuse();
    const keyPrefix = uniquePrefix('late-redis');
    cleanups.push(() => deletePrefix(keyPrefix));
    const journal = wrapped(
      new RedisJournal({ url: `redis://127.0.0.1:${proxy.port}`, keyPrefix, instanceId: 'late' }),
    );
    const opened = journal.open();
    await until(() => (journal.status?.().failedAttempts ?? 0) >= 2, 'two failed attempts');
    expect(journal.status?.().lastError?.code).toBe('JOURNAL_UNAVAILABLE');
    await proxy.accept();
    expect(await opened).toEqual([]);
    journal.append({ type: 'accepted', message: outbound('m') });
    await journal.commit();
    expect(journal.pendingCount()).toBe(1);
  });

  it('a journal written by a newer ferry is refused, not retried in a loop', async () => {
    const keyPrefix = uniquePrefix('too-new');
    cleanups.push(() => deletePrefix(keyPrefix));
    const redis = rawRedis();
    cleanups.push(() => {
      redis.disconnect();
    });
    await redis.set(`${keyPrefix}:schema`, '99');
    const journal = wrapped(new RedisJournal({ url: REDIS_URL, keyPrefix, instanceId: 'new' }));
    expect((await refusal(journal.open())).code).toBe('JOURNAL_TOO_NEW');
    expect(journal.status?.()).toMatchObject({ state: 'failed', failedAttempts: 1, retryAt: null });
  });

  it('a producer on it starts once the journal opens; status says why until then', async () => {
    const folder = lateFolder();
    const broker = new FakeBroker();
    broker.responder = () => 'ack';
    const producer: Producer = createProducer(
      { journal: { kind: 'sqlite', path: folder.path }, topology: { declare: false } },
      { broker },
    );
    cleanups.push(async () => {
      await producer.close({ timeoutMs: 0 });
    });
    let started = false;
    producer.start().then(() => {
      started = true;
    });
    await until(() => producer.status().journal.state === 'failed', 'the journal failing to open');
    expect(producer.status().journal.lastError?.code).toBe('JOURNAL_UNAVAILABLE');
    const request = { exchange: 'tasks', routingKey: 'ml', body: { n: 1 }, messageId: 'm-1' };
    expect((await refusal(producer.publish(request))).code).toBe('JOURNAL_UNAVAILABLE');
    expect(producer.status().messages.journalPending).toBe(0);

    folder.create();
    await until(() => started, 'start() to resolve');
    expect(producer.status().journal.state).toBe('open');
    const receipt = await producer.publish(request);
    await receipt.settled;
    expect(producer.status().messages.confirmed).toBe(1);
  });
});
