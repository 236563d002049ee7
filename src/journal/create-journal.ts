/**
 * Choosing a journal backend: from `createProducer({ journal })` or from a spec string such as
 * `FERRY_JOURNAL=sqlite:./ferry.db`, `redis://127.0.0.1:6379`, `postgres://…` or `memory`.
 */
import type { Journal } from './journal.js';
import type { JournalConfig } from './journal-config.js';
import { MemoryJournal } from './memory-journal.js';
import { PostgresJournal } from './postgres-journal.js';
import { RedisJournal } from './redis-journal.js';
import { SqliteJournal } from './sqlite-journal.js';

export type { JournalConfig } from './journal-config.js';

/** The spec the service and the CLI use when `FERRY_JOURNAL` is not set. */
export const DEFAULT_JOURNAL_SPEC = 'sqlite:./ferry.db';

/**
 * Reads a journal spec: `memory`, `sqlite:<path>`, `redis://…` / `rediss://…` or `postgres://…` /
 * `postgresql://…`.
 *
 * @throws Error naming the accepted forms.
 */
export function parseJournalSpec(spec: string): JournalConfig {
  const trimmed = spec.trim();
  if (trimmed === 'memory') return { kind: 'memory' };
  if (trimmed.startsWith('sqlite:')) {
    const path = trimmed.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path !== '') return { kind: 'sqlite', path };
  }
  if (/^rediss?:\/\/\S+$/.test(trimmed)) return { kind: 'redis', url: trimmed };
  if (/^postgres(ql)?:\/\/\S+$/.test(trimmed)) return { kind: 'postgres', url: trimmed };
  throw new Error(
    `unknown journal ${JSON.stringify(spec)}: use memory, sqlite:<path>, redis://host:port or postgres://host/db`,
  );
}

/** Creates (does not open) the journal a config names. */
export function createJournal(config: JournalConfig, onError?: (error: unknown) => void): Journal {
  const withHandler = onError === undefined ? {} : { onError };
  switch (config.kind) {
    case 'memory':
      return new MemoryJournal();
    case 'sqlite': {
      const { kind: _sqlite, ...options } = config;
      return new SqliteJournal({ ...options, ...withHandler });
    }
    case 'redis': {
      const { kind: _redis, ...options } = config;
      return new RedisJournal({ ...options, ...withHandler });
    }
    case 'postgres': {
      const { kind: _postgres, ...options } = config;
      return new PostgresJournal({ ...options, ...withHandler });
    }
  }
}
