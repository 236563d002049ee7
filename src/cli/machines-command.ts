/**
 * `ferry machines export [--out file]`: every machine that `machines/index.ts` exports, as its JSON
 * definition (`machine.toJSON()`), for Stately's visualiser or any tool that reads XState configs.
 * Written to stdout unless `--out` names a file.
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { type AnyStateMachine, StateMachine } from 'xstate';
import * as machines from '../../machines/index.js';

/** Where the command writes; a test passes its own. */
export interface MachinesOutput {
  out(text: string): void;
  writeFile(path: string, text: string): void;
}

/** The exported machines, by their id. */
export function exportedMachines(): AnyStateMachine[] {
  return Object.values(machines).filter((value): value is AnyStateMachine => value instanceof StateMachine);
}

/** `{ "<machine id>": <definition>, ... }` as indented JSON. */
export function machinesJson(): string {
  const definitions = Object.fromEntries(exportedMachines().map((machine) => [machine.id, machine.toJSON()]));
  return `${JSON.stringify(definitions, null, 2)}\n`;
}

/** The `machines` command; `io` defaults to stdout and the file system. */
export function machinesCommand(
  io: MachinesOutput = {
    out: (text) => process.stdout.write(text),
    writeFile: (path, text) => writeFileSync(path, text),
  },
): Command {
  const command = new Command('machines').description("ferry's state machines.");
  command
    .command('export')
    .description('write the machine definitions as JSON (for the Stately visualiser)')
    .option('--out <file>', 'write to this file instead of stdout')
    .action((options: { out?: string }) => {
      const json = machinesJson();
      if (options.out === undefined) io.out(json);
      else io.writeFile(options.out, json);
    });
  return command;
}
