/**
 * `ferry dlq`: look at ferry's dead-letter queue, send dead letters back where they were going, or
 * drop them. The broker comes from `RABBITMQ_URL` (and the TLS variables) like `ferry serve`.
 *
 * ```
 * ferry dlq list [--json]
 * ferry dlq requeue --id 6f1c… | --all
 * ferry dlq purge --id 6f1c… | --all --yes
 * ```
 *
 * `list` does not consume: it fetches each message unacknowledged and requeues it (see
 * src/dlq/dead-letter-queue.ts for the caveat: a requeue may reorder). `requeue` publishes each chosen
 * message through a ferry producer to its original exchange and routing key with the same message id,
 * and removes the dead letter only once the broker has confirmed the new copy; one that is not
 * confirmed in time stays in the dead-letter queue (and may also have been delivered: consumers dedupe
 * on the message id).
 *
 * Exit codes: 0 done, 1 a message not found, not confirmed or dead-lettered again, 2 invalid input.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE } from '../amqp/topology.js';
import type { DeadLetter } from '../dlq/dead-letter.js';
import { requeueRequest } from '../dlq/dead-letter.js';
import {
  type BrowsedLetter,
  browseDeadLetters,
  purgeQueue,
  type QueueLocation,
} from '../dlq/dead-letter-queue.js';
import type { ProducerOptions } from '../producer/options.js';
import { createProducer } from '../producer/producer.js';
import { formatConfigProblems, loadServiceConfig, type ServiceEnv } from '../service/config.js';
import type { Output } from './journal-command.js';
import { settledWithin } from './settled-within.js';

interface CommonOptions {
  queue: string;
  limit: number;
  json?: boolean;
}

interface SelectOptions extends CommonOptions {
  id?: string[];
  all?: boolean;
}

interface RequeueOptions extends SelectOptions {
  deadLetterExchange: string;
  timeout: number;
}

/** What a subcommand gets: where the queue is, and the producer options from the environment. */
interface Broker {
  readonly where: QueueLocation;
  readonly producer: ProducerOptions;
}

class UsageError extends Error {}

const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('not a positive whole number');
  return n;
};

function common(command: Command): Command {
  return command
    .addOption(new Option('--queue <name>', 'the dead-letter queue').default(DEAD_LETTER_QUEUE))
    .addOption(new Option('--limit <n>', 'read at most this many messages').argParser(integer).default(1_000))
    .option('--json', 'machine-readable output on stdout');
}

function selecting(command: Command): Command {
  return common(command)
    .option('--id <messageId...>', 'the message ids to act on')
    .option('--all', 'act on every message read');
}

function checkSelection(o: SelectOptions): void {
  if ((o.id === undefined) === (o.all !== true)) throw new UsageError('give either --id or --all');
}

function chosen(browsed: readonly BrowsedLetter[], o: SelectOptions): BrowsedLetter[] {
  if (o.all === true) return [...browsed];
  const ids = new Set(o.id);
  return browsed.filter((entry) => entry.letter.messageId !== null && ids.has(entry.letter.messageId));
}

function missing(chosenLetters: readonly BrowsedLetter[], o: SelectOptions): string[] {
  const found = new Set(chosenLetters.map((entry) => entry.letter.messageId));
  return (o.id ?? []).filter((id) => !found.has(id));
}

const COLUMNS: readonly (keyof DeadLetter)[] = [
  'messageId',
  'reason',
  'attempts',
  'originalExchange',
  'originalRoutingKey',
  'firstAcceptedAt',
  'deadLetteredAt',
];

function table(letters: readonly DeadLetter[]): string {
  const rows = [COLUMNS.map(String), ...letters.map((l) => COLUMNS.map((c) => String(l[c] ?? '-')))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  return rows.map((row) => `${row.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ')}\n`).join('');
}

/** The `dlq` command; `io` defaults to stdout and stderr, `env` to `process.env`. */
export function dlqCommand(
  io: Output = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) },
  env: ServiceEnv = process.env,
): Command {
  const command = new Command('dlq').description("Inspect, requeue or purge ferry's dead-letter queue.");

  /** Runs `work` with the broker settings, mapping failures onto exit codes and messages. */
  const run =
    <O extends CommonOptions>(name: string, work: (broker: Broker, o: O) => Promise<boolean>) =>
    async (o: O): Promise<void> => {
      const loaded = loadServiceConfig({ ...env, FERRY_JOURNAL: 'memory' });
      if (!loaded.ok) {
        io.err(`ferry dlq ${name}: ${formatConfigProblems(loaded.problems)}\n`);
        process.exitCode = 2;
        return;
      }
      const { producer } = loaded.config;
      const connection = producer.connection ?? {};
      const where: QueueLocation = {
        url: connection.url ?? String(connection.urls?.[0]),
        queue: o.queue,
        ...(connection.tls === undefined ? {} : { socketOptions: connection.tls }),
      };
      try {
        if (!(await work({ where, producer }, o))) process.exitCode = 1;
      } catch (error) {
        io.err(`ferry dlq ${name}: ${(error as Error).message}\n`);
        process.exitCode = error instanceof UsageError ? 2 : 1;
      }
    };

  command.addCommand(
    common(new Command('list'))
      .description('Show the dead letters without consuming them.')
      .action(
        run('list', async ({ where }, o: CommonOptions) => {
          const browse = await browseDeadLetters(where, o.limit);
          await browse.close();
          const letters = browse.letters.map((entry) => entry.letter);
          if (o.json === true) io.out(`${JSON.stringify({ letters, more: browse.remaining })}\n`);
          else {
            io.out(table(letters));
            io.err(
              `${letters.length} dead letter(s) in ${o.queue}` +
                (browse.remaining > 0 ? `, ${browse.remaining} more not shown (--limit)\n` : '\n'),
            );
          }
          return true;
        }),
      ),
  );

  command.addCommand(
    selecting(new Command('requeue'))
      .description('Publish dead letters again to their original exchange and routing key.')
      .addOption(
        new Option('--dead-letter-exchange <name>', 'where a requeued message that fails again goes').default(
          DEAD_LETTER_EXCHANGE,
        ),
      )
      .addOption(
        new Option('--timeout <ms>', 'how long to wait for the confirms').argParser(integer).default(30_000),
      )
      .action(
        run('requeue', async ({ where, producer: options }, o: RequeueOptions) => {
          checkSelection(o);
          const browse = await browseDeadLetters(where, o.limit);
          // The dead letter itself is the durable copy until the new one is confirmed: memory is enough.
          const producer = createProducer({
            ...options,
            journal: { kind: 'memory' },
            topology: { ...options.topology, declare: false, deadLetterExchange: o.deadLetterExchange },
          });
          try {
            const selected = chosen(browse.letters, o);
            const notFound = missing(selected, o);
            await producer.start();
            const results = await Promise.all(
              selected.map(async (entry) => {
                const request = requeueRequest(entry.message);
                if (request === null) return { entry, outcome: 'not-from-ferry' as const };
                const receipt = await producer.publish(request);
                const outcome = await settledWithin(receipt, o.timeout);
                // Dead-lettered again means a new dead letter replaces this one.
                if (outcome !== 'timeout') browse.ack(entry);
                return { entry, outcome };
              }),
            );
            const report = results.map(({ entry, outcome }) => ({
              messageId: entry.letter.messageId,
              exchange: entry.letter.originalExchange,
              routingKey: entry.letter.originalRoutingKey,
              outcome,
            }));
            if (o.json === true) io.out(`${JSON.stringify({ requeued: report, notFound })}\n`);
            else {
              for (const r of report)
                io.out(`${r.messageId}  ${r.exchange ?? '-'}/${r.routingKey ?? '-'}  ${r.outcome}\n`);
              for (const id of notFound) io.err(`ferry dlq requeue: ${id} is not in ${o.queue}\n`);
            }
            return notFound.length === 0 && report.every((r) => r.outcome === 'confirmed');
          } finally {
            await browse.close();
            await producer.close({ timeoutMs: 0 });
          }
        }),
      ),
  );

  command.addCommand(
    selecting(new Command('purge'))
      .description('Delete dead letters for good.')
      .option('--yes', 'confirm the deletion')
      .action(
        run('purge', async ({ where }, o: SelectOptions & { yes?: boolean }) => {
          checkSelection(o);
          if (o.yes !== true) throw new UsageError('purge deletes messages for good: add --yes');
          if (o.all === true) {
            const count = await purgeQueue(where);
            io.out(o.json === true ? `${JSON.stringify({ purged: count })}\n` : `purged ${count}\n`);
            return true;
          }
          const browse = await browseDeadLetters(where, o.limit);
          try {
            const selected = chosen(browse.letters, o);
            for (const entry of selected) browse.ack(entry);
            const notFound = missing(selected, o);
            if (o.json === true) io.out(`${JSON.stringify({ purged: selected.length, notFound })}\n`);
            else {
              io.out(`purged ${selected.length}\n`);
              for (const id of notFound) io.err(`ferry dlq purge: ${id} is not in ${o.queue}\n`);
            }
            return notFound.length === 0;
          } finally {
            await browse.close();
          }
        }),
      ),
  );
  return command;
}
