/** A held message written again from its record folds back to that record (redis re-registration). */
import { describe, expect, it } from 'vitest';
import { foldMessage, recordEvents } from '../../src/journal/fold.js';
import type { JournalEvent } from '../../src/journal/journal.js';
import { outbound } from './fixtures.js';

const failure = { code: 'NACKED', message: 'nacked', permanent: false };
const accepted: JournalEvent = { type: 'accepted', message: outbound('m') };
const HISTORIES: Record<string, JournalEvent[]> = {
  pending: [accepted],
  failed: [accepted, { type: 'failed', messageId: 'm', attempts: 1, failure, at: 2, random: 7 }],
  'waiting to retry': [
    accepted,
    { type: 'failed', messageId: 'm', attempts: 2, failure, at: 2, random: 7 },
    { type: 'retry-scheduled', messageId: 'm', delayMs: 500, retryAt: 900, random: 8, at: 3 },
  ],
  'failed again after a retry': [
    accepted,
    { type: 'failed', messageId: 'm', attempts: 1, failure, at: 2, random: 7 },
    { type: 'retry-scheduled', messageId: 'm', delayMs: 500, retryAt: 900, random: 8, at: 3 },
    { type: 'failed', messageId: 'm', attempts: 2, failure, at: 4 },
  ],
  parked: [
    accepted,
    { type: 'failed', messageId: 'm', attempts: 5, failure, at: 2, random: 7 },
    { type: 'parked', messageId: 'm', deadLetterFailures: 2, retryAt: 60_000, at: 3 },
  ],
  'retrying after being parked': [
    accepted,
    { type: 'failed', messageId: 'm', attempts: 5, failure, at: 2, random: 7 },
    { type: 'parked', messageId: 'm', deadLetterFailures: 1, retryAt: 60_000, at: 3 },
    { type: 'failed', messageId: 'm', attempts: 6, failure, at: 4, random: 9 },
    { type: 'retry-scheduled', messageId: 'm', delayMs: 800, retryAt: 70_000, random: 10, at: 5 },
  ],
};

describe('recordEvents', () => {
  for (const [name, history] of Object.entries(HISTORIES)) {
    it(`folds back to the record: ${name}`, () => {
      const record = foldMessage(history);
      expect(record).toBeDefined();
      if (record === undefined) return;
      expect(foldMessage(recordEvents(record, 123))).toEqual(record);
    });
  }
});
