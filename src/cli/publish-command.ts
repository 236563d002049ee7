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
 * Exit codes: 0 confirmed, 1 dead-lettered or not confirmed in time, 2 invalid input or configuration.
 */
import { Command, Option } from 'commander';
import { FerryError } from '../errors.js';
import { parseJournalSpec } from '../journal/create-journal.js';
import { createProducer } from '../producer/producer.js';
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

/** The `publish` command; `io` defaults to the process's stdout and stderr. */
export function publishCommand(
  io: Output = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) },
): Command {
  return new Command('publish')
    .description('Publish one ML task and wait for the broker to confirm it.')
    .addArgument(new Command().createArgument('<type>', 'summarize | transcribe | embed').choices(TYPES))
    .argument('<shareId>', 'the share the task is about')
    .option('--text <text>', 'the text to summarize or embed (content.text)')
    .option('--content <json>', 'the whole content object, as JSON')
    .option('--media-url <url>', 'the media to transcribe')
    .option('--options <json>', 'the task options, as JSON (e.g. {"backend":"local"})')
    .option('--correlation-id <id>', 'ties the task to a request upstream')
    .option('--traceparent <value>', 'W3C trace context passed to the worker')
    .addOption(
      new Option('--journal <spec>', 'memory | sqlite:<path> | redis://host:port')
        .env('FERRY_JOURNAL')
        .default('memory'),
    )
    .addOption(
      new Option('--timeout <ms>', 'how long to wait for the confirm')
        .argParser((value) => Number.parseInt(value, 10))
        .default(30_000),
    )
    .action(async (kind: TaskKind, shareId: string, o: PublishOptions) => {
      const loaded = loadServiceConfig({ ...process.env, FERRY_JOURNAL: undefined });
      if (!loaded.ok) {
        io.err(`ferry publish: ${formatConfigProblems(loaded.problems)}\n`);
        process.exitCode = 2;
        return;
      }
      let producer: ReturnType<typeof createProducer>;
      try {
        producer = createProducer({ ...loaded.config.producer, journal: parseJournalSpec(o.journal) });
      } catch (error) {
        io.err(`ferry publish: ${(error as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      try {
        const tasks = createMlTasks(producer, { preferredBackends: loaded.config.preferredBackends });
        // Not awaited: a broker that is down is retried until the timeout, like any publish.
        producer.start().catch(() => undefined);
        const receipt = await send(tasks, kind, shareId, o);
        const outcome = await settledWithin(receipt, o.timeout);
        io.out(`${JSON.stringify({ messageId: receipt.messageId, outcome })}\n`);
        if (outcome === 'timeout') {
          io.err(
            `ferry publish: not confirmed within ${o.timeout} ms (${producer.status().connection.phase}); ` +
              (o.journal === 'memory'
                ? 'nothing was kept: publish it again\n'
                : `it stays in ${o.journal}\n`),
          );
        }
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
