/**
 * The health routes' journal failure: the journal's own status while it cannot be opened, otherwise
 * the last journal error this service saw, cleared by an accepted task.
 */
import { expect, it } from 'vitest';
import type { JournalStatus } from '../../src/journal/journal.js';
import { JournalError } from '../../src/journal/journal-error.js';
import { JournalHealth } from '../../src/service/journal-health.js';

const open: JournalStatus = { state: 'open', failedAttempts: 0, lastError: null, retryAt: null };
const unavailable = { code: 'JOURNAL_UNAVAILABLE', message: 'connect ECONNREFUSED 127.0.0.1:6379' };
const failing: JournalStatus = { state: 'failed', failedAttempts: 2, lastError: unavailable, retryAt: 1_000 };

it('reports the failure the journal status gives while it cannot open', () => {
  let status = failing;
  const health = new JournalHealth(() => status);
  expect(health.failure()).toEqual(unavailable);
  status = open;
  expect(health.failure()).toBeNull();
});

it('once open, reports the journal errors it saw until a task is accepted', () => {
  const health = new JournalHealth(() => open);
  const full = new JournalError('JOURNAL_WRITE_FAILED', 'the disk is full');
  health.failed(new Error('not a journal error'));
  expect(health.failure()).toBeNull();
  health.failed(full);
  expect(health.failure()).toEqual({ code: full.code, message: full.message });
  health.recovered();
  expect(health.failure()).toBeNull();
});

it("prefers the journal's status over an older error seen by the service", () => {
  const health = new JournalHealth(() => failing);
  health.failed(new JournalError('JOURNAL_WRITE_FAILED', 'the disk is full'));
  expect(health.failure()).toEqual(unavailable);
});
