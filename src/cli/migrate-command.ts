/**
 * `ferry migrate`: creates or upgrades the postgres outbox schema, or prints its SQL for teams that run
 * their own migration tool. A schema newer than this ferry is reported (exit 2) and left untouched.
 *
 * ```
 * ferry migrate --journal postgres://app@db/app
 * ferry migrate --schema jobs_outbox --print > 0042_ferry_outbox.sql
 * ```
 */
import { Command, Option } from 'commander';
import { parseJournalSpec } from '../journal/create-journal.js';
import { JournalError } from '../journal/journal-error.js';
import { migrate, migrationSql } from '../postgres/migrations.js';
import { outboxSchema } from '../postgres/outbox-schema.js';
import { createPool } from '../postgres/pg-driver.js';
import type { Output } from './journal-command.js';

interface MigrateOptions {
  readonly journal?: string;
  readonly schema: string;
  readonly print?: boolean;
}

/** The `migrate` command; `io` defaults to the process's stdout and stderr. */
export function migrateCommand(
  io: Output = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) },
): Command {
  return new Command('migrate')
    .description('Create or upgrade the postgres outbox schema (or print its SQL).')
    .addOption(new Option('--journal <url>', 'postgres://user@host:port/db').env('FERRY_JOURNAL'))
    .addOption(new Option('--schema <name>', 'the schema the outbox lives in').default('ferry'))
    .option('--print', 'print the SQL instead of running it')
    .action((options: MigrateOptions) => run(io, options));
}

async function run(io: Output, options: MigrateOptions): Promise<void> {
  try {
    const schema = outboxSchema(options.schema);
    if (options.print === true) {
      io.out(migrationSql(schema.name));
      return;
    }
    const config = options.journal === undefined ? undefined : parseJournalSpec(options.journal);
    if (config?.kind !== 'postgres' || config.url === undefined) {
      throw new JournalError(
        'JOURNAL_UNAVAILABLE',
        'ferry migrate needs --journal postgres://… (or FERRY_JOURNAL)',
      );
    }
    const pool = createPool(config.url, 1, () => undefined);
    try {
      const { from, to } = await migrate(pool, schema);
      io.out(
        from === to
          ? `outbox schema ${schema.name} is at version ${to}: nothing to do\n`
          : `outbox schema ${schema.name}: version ${from} → ${to}\n`,
      );
    } finally {
      await pool.end().catch(() => undefined);
    }
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    io.err(`ferry migrate: ${error.message}\n`);
    process.exitCode = 2;
  }
}
