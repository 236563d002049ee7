#!/usr/bin/env node
/**
 * The `ferry` command. Each subcommand lives in its own file and is listed in {@link COMMANDS}; adding
 * one (serve, publish, load, dlq, ...) is a new file and one line here.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { dlqCommand } from './dlq-command.js';
import { journalCommand } from './journal-command.js';
import { loadCommand } from './load-command.js';
import { machinesCommand } from './machines-command.js';
import { migrateCommand } from './migrate-command.js';
import { publishCommand } from './publish-command.js';
import { serveCommand } from './serve-command.js';

/** Builders of the subcommands, in the order `ferry --help` lists them. */
export const COMMANDS: readonly (() => Command)[] = [
  serveCommand,
  publishCommand,
  loadCommand,
  dlqCommand,
  journalCommand,
  migrateCommand,
  machinesCommand,
];

/** The `ferry` program with every subcommand. */
export function buildCli(): Command {
  const program = new Command('ferry')
    .description('Publish ML tasks to RabbitMQ so that no accepted task is ever lost.')
    .showHelpAfterError();
  for (const command of COMMANDS) program.addCommand(command());
  return program;
}

/** Whether this module is the process's entry point (not imported by a test). */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * Runs the CLI on `argv` (as `process.argv`). Usage errors (unknown command, bad choice, missing
 * argument) exit 2 like every other invalid input, not commander's default 1; help exits 0.
 */
export async function runCli(argv: readonly string[]): Promise<void> {
  const program = buildCli();
  const overrideExit = (command: Command): void => {
    command.exitOverride();
    for (const subcommand of command.commands) overrideExit(subcommand);
  };
  overrideExit(program);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    // Commander has printed its message already.
    if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : 2;
    else {
      process.stderr.write(`ferry: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  }
}

if (isEntryPoint()) void runCli(process.argv);
