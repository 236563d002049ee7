/**
 * `ferry publish`: one ML task from the command line, waiting for the broker's confirm. The broker and
 * backends come from the same environment variables as `ferry serve`.
 *
 * ```
 * ferry publish summarize share-1 --text 'Some text' --options '{"style":"brief"}'
 * ferry publish transcribe share-2 --media-url https://cdn.example.com/v.mp4
 * ferry publish embed share-3 --content '{"text":"hello","type":"tweet"}'
 * ```
 *
 * The journal is the memory journal unless `--journal` names one: `FERRY_JOURNAL` is not read, since a
 * service's journal is that service's (one owner per file) and publishing one task must not send its
 * backlog. `--task-id` makes a retry idempotent: consumers dedupe on the id.
 *
 * Exit codes: 0 confirmed, 1 dead-lettered, refused by the broker, or not confirmed in time, 2 invalid
 * input or configuration.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { FerryError } from '../errors.js';
import { parseJournalSpec } from '../journal/create-journal.js';
import { createProducer, type Producer } from '../producer/producer.js';
import type { PublishReceipt } from '../producer/receipt.js';
import { formatConfigProblems, loadServiceConfig } from '../service/config.js';
import { createMlTasks, type MlTasks } from '../tasks/ml-tasks.js';
import type { Output } from './journal-command.js';
import { settledWithin } from './settled-within.js';

interface PublishOptions {
  text?: string;
  content?: string;
  mediaUrl?: string;
  options?: string;
  correlationId?: string;
  traceparent?: string;
  taskId?: string;
  journal: string;
  timeout: number;
}

const TYPES = ['summarize', 'transcribe', 'embed'] as const;
type TaskKind = (typeof TYPES)[number];

class UsageError extends Error {}

function json(flag: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag} is not valid JSON: ${(error as Error).message}`);
  }
}

function send(tasks: MlTasks, kind: TaskKind, shareId: string, o: PublishOptions): Promise<PublishReceipt> {
  const options = json('--options', o.options) as never;
  const delivery = {
    ...(o.taskId === undefined ? {} : { taskId: o.taskId }),
    ...(o.correlationId === undefined ? {} : { correlationId: o.correlationId }),
    ...(o.traceparent === undefined ? {} : { traceparent: o.traceparent }),
  };
  if (kind === 'transcribe') {
    if (o.mediaUrl === undefined) throw new UsageError('transcribe needs --media-url');
    return tasks.publishTranscriptionTask(shareId, o.mediaUrl, options, delivery);
  }
  const content = (json('--content', o.content) ??
    (o.text === undefined ? undefined : { text: o.text })) as never;
  if (content === undefined) throw new UsageError(`${kind} needs --text or --content`);
  return kind === 'summarize'
    ? tasks.publishSummarizationTask(shareId, content, options, delivery)
    : tasks.publishEmbeddingTask(shareId, content, options, delivery);
}

/** `--timeout`: whole milliseconds, at least 1, at most a day. */
function parseTimeout(value: string): number {
  const ms = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(ms) || ms < 1 || ms > 86_400_000) {
    throw new InvalidArgumentError('must be a whole number of milliseconds from 1 to 86400000');
  }
  return ms;
}

/**
 * Resolves with the connection's error when it is permanent (wrong credentials, a missing vhost):
 * waiting out the timeout cannot help then. Never resolves otherwise.
 */
function permanentRefusal(started: Promise<void>): Promise<FerryError> {
  return new Promise((resolve) => {
    started.catch((error: unknown) => {
      const failure = FerryError.from(error);
      if (failure.permanent) resolve(failure);
    });
  });
}

/** What is known of a message that was not confirmed in time, and what to do about it. */
function timeoutAdvice(producer: Producer, o: PublishOptions, messageId: string): string {
  const { messages, connection } = producer.status();
  const where =
    messages.inFlight > 0
      ? 'it was written to the broker but not confirmed: it may have been delivered'
      : `it was not written to the broker yet (the connection is ${connection.phase})`;
  const next =
    o.journal === 'memory'
      ? `to retry without a duplicate, publish again with --task-id ${messageId}`
      : `it stays in ${o.journal} and is sent by the next process that opens it`;
  return `not confirmed within ${o.timeout} ms: ${where}; ${next}`;
}

/** The `publish` command; `io` defaults to the process's stdout and stderr. */
export function publishCommand(
  io: Output = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) },
): Command {
  return new Command('publish')
    .description('Publish one ML task and wait for the broker to confirm it.')
    .addArgument(new Command().createArgument('<type>', 'summarize | transcribe | embed').choices(TYPES))
    .argument('<shareId>', 'the share the task is about')
    .option('--text <text>', 'the text to summarize or embed (content.text)')
    .addOption(new Option('--content <json>', 'the whole content object, as JSON').conflicts('text'))
    .option('--media-url <url>', 'the media to transcribe')
    .option('--options <json>', 'the task options, as JSON (e.g. {"backend":"local"})')
    .option('--correlation-id <id>', 'ties the task to a request upstream')
    .option('--traceparent <value>', 'W3C trace context passed to the worker')
    .option(
      '--task-id <id>',
      'the Celery task id (the dedupe key); give the same one to retry without a copy',
    )
    .addOption(
      new Option(
        '--journal <spec>',
        'memory | sqlite:<path> | redis://host:port (FERRY_JOURNAL is not read: a service owns its journal)',
      ).default('memory'),
    )
    .addOption(
      new Option('--timeout <ms>', 'how long to wait for the confirm')
        .argParser(parseTimeout)
        .default(30_000),
    )
    .action(async (kind: TaskKind, shareId: string, o: PublishOptions) => {
      const loaded = loadServiceConfig({ ...process.env, FERRY_JOURNAL: undefined });
      if (!loaded.ok) {
        io.err(`ferry publish: ${formatConfigProblems(loaded.problems)}\n`);
        process.exitCode = 2;
        return;
      }
      let producer: Producer;
      try {
        producer = createProducer({ ...loaded.config.producer, journal: parseJournalSpec(o.journal) });
      } catch (error) {
        io.err(`ferry publish: ${(error as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      try {
        const tasks = createMlTasks(producer, { preferredBackends: loaded.config.preferredBackends });
        // Not awaited: a broker that is down is retried until the timeout, like any publish; one that
        // refuses for good (credentials, vhost) ends the wait at once.
        const started = producer.start();
        started.catch(() => undefined);
        const receipt = await send(tasks, kind, shareId, o);
        const outcome = await Promise.race([settledWithin(receipt, o.timeout), permanentRefusal(started)]);
        if (outcome instanceof FerryError) {
          io.out(
            `${JSON.stringify({ messageId: receipt.messageId, outcome: 'refused', error: outcome.code })}\n`,
          );
          io.err(`ferry publish: the broker refused the connection (${outcome.code}): ${outcome.message}\n`);
          process.exitCode = 1;
          return;
        }
        io.out(`${JSON.stringify({ messageId: receipt.messageId, outcome })}\n`);
        if (outcome === 'timeout')
          io.err(`ferry publish: ${timeoutAdvice(producer, o, receipt.messageId)}\n`);
        if (outcome !== 'confirmed') process.exitCode = 1;
      } catch (error) {
        const invalid =
          error instanceof UsageError || (error instanceof FerryError && error.code === 'INVALID_MESSAGE');
        io.err(`ferry publish: ${(error as Error).message}\n`);
        process.exitCode = invalid ? 2 : 1;
      } finally {
        await producer.close({ timeoutMs: 0 });
      }
    });
}
