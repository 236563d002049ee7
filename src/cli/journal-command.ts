/**
 * `ferry journal stats|list|export`: what a journal holds, read-only. A journal that is corrupt or from
 * a newer ferry is reported (exit code 2) and left exactly as it is.
 *
 * ```
 * ferry journal stats  --journal sqlite:./ferry.db
 * ferry journal list   --journal redis://127.0.0.1:6379 --state parked --json
 * ferry journal export --journal sqlite:./ferry.db > journal.ndjson
 * ```
 */
import { Command, Option } from 'commander';
import { exportLine } from '../journal/codec.js';
import { DEFAULT_JOURNAL_SPEC, parseJournalSpec } from '../journal/create-journal.js';
import type { PendingMessage, UnfinishedState } from '../journal/journal.js';
import { JournalError } from '../journal/journal-error.js';
import { foldReader, type JournalReader, openJournalReader } from '../journal/reader.js';

/** Where the command writes; a test passes its own. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const STATES: readonly UnfinishedState[] = ['pending', 'retrying', 'parked'];

/** The `journal` command; `io` defaults to the process's stdout and stderr. */
export function journalCommand(
  io: Output = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) },
): Command {
  const journalOption = () =>
    new Option('--journal <spec>', 'memory | sqlite:<path> | redis://host:port')
      .env('FERRY_JOURNAL')
      .default(DEFAULT_JOURNAL_SPEC);
  const prefixOption = () => new Option('--key-prefix <prefix>', 'redis key prefix').default('ferry');
  const command = new Command('journal').description('Inspect a journal: what ferry still owes (read-only).');

  command
    .command('stats')
    .description('counts of unfinished messages by state, and of finished ones')
    .addOption(journalOption())
    .addOption(prefixOption())
    .option('--json', 'as JSON')
    .action((options: { journal: string; keyPrefix: string; json?: boolean }) =>
      withReader(io, options, async (reader) => {
        const state = await foldReader(reader);
        const totals = await reader.totals();
        const stats = {
          journal: reader.description,
          schemaVersion: reader.schemaVersion,
          unfinished: state.size,
          ...state.countByState(),
          confirmed: totals.confirmed,
          deadLettered: totals.deadLettered,
        };
        io.out(
          options.json === true
            ? `${JSON.stringify(stats)}\n`
            : `${Object.entries(stats)
                .map(([key, value]) => `${key.padEnd(14)} ${value}`)
                .join('\n')}\n`,
        );
      }),
    );

  command
    .command('list')
    .description('unfinished messages, oldest first')
    .addOption(journalOption())
    .addOption(prefixOption())
    .addOption(new Option('--state <state>', 'only this state').choices(STATES))
    .option('--limit <n>', 'at most this many', (value) => Number.parseInt(value, 10))
    .option('--json', 'one JSON object per line')
    .action(
      (options: {
        journal: string;
        keyPrefix: string;
        state?: UnfinishedState;
        limit?: number;
        json?: boolean;
      }) =>
        withReader(io, options, async (reader) => {
          const records = (await foldReader(reader))
            .pending()
            .filter((record) => options.state === undefined || record.state === options.state)
            .slice(0, options.limit ?? Number.POSITIVE_INFINITY);
          for (const record of records)
            io.out(`${options.json === true ? listJson(record) : listLine(record)}\n`);
        }),
    );

  command
    .command('export')
    .description('every stored event as NDJSON (bodies in base64)')
    .addOption(journalOption())
    .addOption(prefixOption())
    .action((options: { journal: string; keyPrefix: string }) =>
      withReader(io, options, async (reader) => {
        for await (const { position, event } of reader.events()) io.out(`${exportLine(event, position)}\n`);
      }),
    );
  return command;
}

async function withReader(
  io: Output,
  options: { journal: string; keyPrefix: string },
  use: (reader: JournalReader) => Promise<void>,
): Promise<void> {
  let reader: JournalReader | null = null;
  try {
    const config = parseJournalSpec(options.journal);
    reader = await openJournalReader(
      config.kind === 'redis' ? { ...config, keyPrefix: options.keyPrefix } : config,
    );
    await use(reader);
  } catch (error) {
    if (
      !(error instanceof JournalError) &&
      !(error instanceof Error && error.message.startsWith('unknown journal'))
    ) {
      throw error;
    }
    io.err(`ferry journal: ${error.message}\n`);
    process.exitCode = 2;
  } finally {
    await reader?.close();
  }
}

function listLine(record: PendingMessage): string {
  const { message } = record;
  return [
    message.messageId,
    record.state,
    `attempts=${record.attempts}`,
    `failure=${record.lastFailure?.code ?? '-'}`,
    `retryAt=${record.retryAt === null ? '-' : new Date(record.retryAt).toISOString()}`,
    `${message.exchange}/${message.routingKey}`,
    `accepted=${new Date(message.acceptedAt).toISOString()}`,
    `bytes=${message.content.byteLength}`,
  ].join('  ');
}

function listJson(record: PendingMessage): string {
  const { message, ...rest } = record;
  return JSON.stringify({
    messageId: message.messageId,
    exchange: message.exchange,
    routingKey: message.routingKey,
    acceptedAt: message.acceptedAt,
    bytes: message.content.byteLength,
    ...rest,
  });
}
