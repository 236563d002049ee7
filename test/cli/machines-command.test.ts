/**
 * `ferry machines export`: the JSON lists every machine `machines/index.ts` exports, and in each one
 * every state node the machine has, at the path it has it.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  breakerMachine,
  connectionMachine,
  messageMachine,
  supervisorMachine,
} from '../../machines/index.js';
import { exportedMachines, machinesCommand } from '../../src/cli/machines-command.js';
import { stateNodesOf } from '../../src/diagrams/state-nodes.js';

interface StateJson {
  readonly id: string;
  readonly states?: Readonly<Record<string, StateJson>>;
}

/** Every state id in a definition, found by walking its `states` objects. */
function stateIds(node: StateJson): string[] {
  return [node.id, ...Object.values(node.states ?? {}).flatMap(stateIds)];
}

async function exportMachines(...args: string[]): Promise<{ out: string; files: Map<string, string> }> {
  let out = '';
  const files = new Map<string, string>();
  const root = new Command('ferry').exitOverride();
  root.addCommand(
    machinesCommand({ out: (text) => (out += text), writeFile: (path, text) => files.set(path, text) }),
  );
  await root.parseAsync(['machines', 'export', ...args], { from: 'user' });
  return { out, files };
}

describe('ferry machines export', () => {
  it('finds the four machines', () => {
    expect(new Set(exportedMachines())).toEqual(
      new Set([connectionMachine, breakerMachine, messageMachine, supervisorMachine]),
    );
  });

  it('writes every state of every machine to stdout', async () => {
    const { out, files } = await exportMachines();
    expect(files.size).toBe(0);
    const json = JSON.parse(out) as Record<string, StateJson>;
    expect(Object.keys(json).sort()).toEqual(
      exportedMachines()
        .map((m) => m.id)
        .sort(),
    );
    for (const machine of exportedMachines()) {
      const exported = json[machine.id];
      expect(exported, machine.id).toBeDefined();
      expect(stateIds(exported!).sort()).toEqual(
        stateNodesOf(machine)
          .map((node) => node.id)
          .sort(),
      );
    }
  });

  it('writes the same JSON to --out', async () => {
    const { out, files } = await exportMachines('--out', 'machines.json');
    expect(out).toBe('');
    const [written] = [...files.entries()];
    expect(written?.[0]).toBe('machines.json');
    expect(JSON.parse(written![1])).toEqual(JSON.parse((await exportMachines()).out));
  });
});
