/**
 * Recovery on `start()`, on a sqlite journal left behind by an earlier process: the journal is
 * replayed, then each message is re-issued explicitly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/journal/journal.js';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { createProducer } from '../../src/producer/producer.js';
import { FakeBroker } from '../support/fake-broker.js';
import { outbound } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-recovery-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const nacked = { code: 'NACKED', message: 'nacked', permanent: false };

async function eventually(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('recovery on start()', () => {
  it('republishes unknown outcomes with their ids, re-arms retry timers at their deadlines, keeps parked ones parked', async () => {
    const path = join(dir, 'left-behind.db');
    const now = Date.now();
    const DELAY = 600;
    const history: JournalEvent[] = [
      // Accepted, outcome unknown.
      { type: 'accepted', message: outbound('unknown') },
      // Retrying, its timer due in DELAY ms.
      { type: 'accepted', message: outbound('waiting') },
      { type: 'failed', messageId: 'waiting', attempts: 1, failure: nacked, at: now - 100, random: 11 },
      {
        type: 'retry-scheduled',
        messageId: 'waiting',
        delayMs: 1_000,
        retryAt: now + DELAY,
        random: 12,
        at: now - 100,
      },
      // Retrying, its timer ran out while no ferry was running.
      { type: 'accepted', message: outbound('overdue') },
      { type: 'failed', messageId: 'overdue', attempts: 1, failure: nacked, at: now - 5_000, random: 21 },
      {
        type: 'retry-scheduled',
        messageId: 'overdue',
        delayMs: 1_000,
        retryAt: now - 4_000,
        random: 22,
        at: now - 5_000,
      },
      // Parked, its next dead-letter hand-off due in DELAY ms.
      { type: 'accepted', message: outbound('parked') },
      { type: 'failed', messageId: 'parked', attempts: 3, failure: nacked, at: now - 100, random: 31 },
      { type: 'parked', messageId: 'parked', deadLetterFailures: 1, retryAt: now + DELAY, at: now - 100 },
      // Finished: nothing to do.
      { type: 'accepted', message: outbound('done') },
      { type: 'confirmed', messageId: 'done', at: now - 50 },
    ];
    const before = new SqliteJournal({ path });
    await before.open();
    for (const event of history) before.append(event);
    await before.close();

    const broker = new FakeBroker();
    broker.responder = () => 'ack';
    const producer = createProducer(
      {
        journal: { kind: 'sqlite', path },
        closeTimeoutMs: 0,
        topology: { declare: false, deadLetterExchange: 'dlx' },
        // A fresh backoff would wait 14 s or more (20 s, jitter ±30 %): far from the journaled deadline
        // even when a loaded machine takes seconds to start.
        retry: { maxAttempts: 3, initialDelayMs: 20_000, maxDelayMs: 20_000 },
      },
      { broker },
    );
    const started = Date.now();
    await producer.start();
    const sent = () => broker.session.published.map((p) => `${p.exchange}:${p.properties.messageId}`);

    await eventually(() => sent().length >= 2, 'the immediate republishes');
    expect(sent().sort()).toEqual(['tasks:overdue', 'tasks:unknown']);
    expect(producer.status().messages.parked).toBe(1);

    await eventually(() => sent().length >= 4, 'the re-armed timers', 10_000);
    const firedAfter = Date.now() - started;
    expect(sent().slice(2).sort()).toEqual(['dlx:parked', 'tasks:waiting']);
    // Not at once and not a fresh backoff (≥ 14 s): at the journaled deadline.
    expect(firedAfter).toBeGreaterThanOrEqual(DELAY - (started - now) - 50);
    expect(firedAfter).toBeLessThan(10_000);
    // The parked message went to the dead-letter exchange, never back to the work queue.
    expect(sent().filter((entry) => entry === 'tasks:parked')).toEqual([]);

    await eventually(
      () => producer.status().messages.journalPending === 0,
      'every recovered message settled',
    );
    await producer.close({ timeoutMs: 0 });
    const after = new SqliteJournal({ path });
    expect(await after.open()).toEqual([]);
    await after.close();
  });
});
