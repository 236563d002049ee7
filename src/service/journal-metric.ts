/**
 * `ml_producer_journal_bytes{file}`: the disk a sqlite journal takes, read on every scrape — the
 * database file (`db`) and its write-ahead log (`wal`), which grows between checkpoints. Other
 * journals have no files here and no such metric.
 */
import { statSync } from 'node:fs';
import type { Registry } from 'prom-client';
import type { JournalConfig } from '../journal/create-journal.js';
import { promClient } from '../optional-deps.js';

/** The metric's name. */
export const JOURNAL_BYTES_METRIC = 'ml_producer_journal_bytes';

function size(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    // Between checkpoints and closes the WAL may not exist: it takes no space then.
    return 0;
  }
}

/** Registers the metric in `registry` for a sqlite journal; does nothing for the others. */
export function journalBytesMetric(journal: JournalConfig, registry: Registry): void {
  if (journal.kind !== 'sqlite') return;
  const { Gauge } = promClient();
  const { path } = journal;
  new Gauge({
    name: JOURNAL_BYTES_METRIC,
    help: 'Bytes the sqlite journal takes on disk: the database file and its write-ahead log',
    labelNames: ['file'],
    registers: [registry],
    collect() {
      this.set({ file: 'db' }, size(path));
      this.set({ file: 'wal' }, size(`${path}-wal`));
    },
  });
}
