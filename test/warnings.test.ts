import { expect, it } from 'vitest';
import { FerryError } from '../src/errors.js';
import { JournalError } from '../src/journal/journal-error.js';
import { emitFerryWarning } from '../src/warnings.js';

it('a ferry warning keeps its type and the error code, whatever it was given', async () => {
  const warnings: Error[] = [];
  const record = (warning: Error) => warnings.push(warning);
  process.on('warning', record);
  try {
    emitFerryWarning(
      'FerryJournalWarning',
      'a journal write failed',
      new JournalError('JOURNAL_WRITE_FAILED', 'disk full'),
    );
    emitFerryWarning(
      'FerryTopologyWarning',
      'could not declare the topology',
      new FerryError('CHANNEL_LOST', 'gone'),
    );
    emitFerryWarning('FerryTopologyWarning', 'could not declare the topology', 'no session');
    // Node emits process warnings on the next tick.
    await new Promise((resolve) => process.nextTick(resolve));
    expect(warnings.map((w) => [w.name, w.message, (w as { code?: string }).code])).toEqual([
      ['FerryJournalWarning', 'a journal write failed: disk full', 'JOURNAL_WRITE_FAILED'],
      ['FerryTopologyWarning', 'could not declare the topology: gone', 'CHANNEL_LOST'],
      ['FerryTopologyWarning', 'could not declare the topology: no session', undefined],
    ]);
  } finally {
    process.off('warning', record);
  }
});
