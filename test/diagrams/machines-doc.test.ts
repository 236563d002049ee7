import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, type AnyStateNode, StateMachine, setup } from 'xstate';
import * as machines from '../../machines/index.js';
import { leadingDocComment, machineSources } from '../../src/diagrams/machine-sources.js';
import {
  MACHINES_DOC_COMMAND,
  MACHINES_DOC_PATH,
  renderMachinesDoc,
} from '../../src/diagrams/machines-doc.js';
import { toMermaid } from '../../src/diagrams/mermaid.js';

const rootDir = fileURLToPath(new URL('../..', import.meta.url));
const dirs = { rootDir, machinesDir: join(rootDir, 'machines') };
const sources = machineSources(machines, dirs);
const ferryMachines = Object.entries(machines).filter(
  (entry): entry is [string, AnyStateMachine] => entry[1] instanceof StateMachine,
);

describe(MACHINES_DOC_PATH, () => {
  it('is what the generator writes for the machines as they are now', () => {
    const path = join(rootDir, MACHINES_DOC_PATH);
    const onDisk = existsSync(path) ? readFileSync(path, 'utf8') : '(missing)';
    expect(onDisk, `${MACHINES_DOC_PATH} is stale: run \`${MACHINES_DOC_COMMAND}\``).toBe(
      renderMachinesDoc(sources),
    );
  });

  it('covers every machine exported from machines/index.ts, with its file and doc comment', () => {
    expect(ferryMachines.length).toBeGreaterThan(0);
    expect(sources.map((source) => source.exportName)).toEqual(ferryMachines.map(([name]) => name).sort());
    for (const source of sources) {
      expect(source.file, source.exportName).not.toBeNull();
      const text = readFileSync(join(rootDir, source.file!), 'utf8');
      expect(text).toMatch(new RegExp(`^export const ${source.exportName}\\b`, 'm'));
      expect(source.comment, `${source.file} should open with a doc comment`).not.toBeNull();
    }
  });

  it('ignores exports that are not machines', () => {
    const found = machineSources({ notAMachine: { root: {}, config: {} }, answer: 42, nothing: null }, dirs);
    expect(found).toEqual([]);
  });
});

describe('renderMachinesDoc', () => {
  const lamp = setup({
    actions: { glow: () => undefined, unused: () => undefined },
    guards: { powered: () => true },
    delays: { warmUp: 10 },
  }).createMachine({
    id: 'lamp',
    initial: 'off',
    states: {
      off: { on: { flip: { guard: 'powered', target: 'warming' } } },
      warming: { after: { warmUp: 'on' } },
      on: { tags: ['lit'], entry: 'glow', on: { flip: 'off' } },
    },
  });
  const doc = renderMachinesDoc([
    {
      exportName: 'lampMachine',
      machine: lamp,
      file: 'machines/lamp.machine.ts',
      comment: 'A lamp.\n\nMore.',
    },
  ]);

  it('gives each machine a section with its comment, its diagram and the names it uses', () => {
    expect(doc).toContain(
      '| [`lampMachine`](#lampmachine) | `lamp` | `machines/lamp.machine.ts` | A lamp. |',
    );
    expect(doc).toContain(`## lampMachine\n\nA lamp.\n\nMore.\n\n\`\`\`mermaid\n${toMermaid(lamp)}\`\`\``);
    for (const row of [
      '| action | `glow` | `on` |',
      '| action | `unused` | — (no state refers to it directly) |',
      '| guard | `powered` | `off` |',
      '| delay | `warmUp` | `warming` |',
      '| tag | `lit` | `on` |',
    ]) {
      expect(doc).toContain(row);
    }
  });
});

describe('leadingDocComment', () => {
  it('returns the opening doc comment without its margins, code blocks kept', () => {
    const source = '/**\n * Purpose.\n *\n * ```\n *   a ── b\n * ```\n */\nimport x from "y";\n';
    expect(leadingDocComment(source)).toBe('Purpose.\n\n```\n  a ── b\n```');
  });

  it('returns null when the file does not start with one', () => {
    expect(leadingDocComment('import x from "y";\n/** Later. */\n')).toBeNull();
    expect(leadingDocComment('// line comment\n')).toBeNull();
  });
});

/** A state box of a parsed diagram. */
interface Box {
  readonly id: string;
  readonly title: string;
  readonly children: Box[];
  readonly lines: string[];
}

interface ParsedDiagram {
  readonly top: readonly Box[];
  readonly boxes: ReadonlyMap<string, Box>;
  /** `source --> target : label`, labels decoded. */
  readonly edges: readonly string[];
  /** Ids of the boxes listing what a composite state does itself. */
  readonly factBoxes: ReadonlySet<string>;
}

function decode(text: string): string {
  return text.replace(/#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)));
}

/** Reads back the structure of a diagram written by `toMermaid`, independently of how it was written. */
function parseDiagram(diagram: string): ParsedDiagram {
  const top: Box[] = [];
  const boxes = new Map<string, Box>();
  const edges: string[] = [];
  const factBoxes = new Set<string>();
  const open: Box[] = [];
  for (const line of diagram.split('\n').map((text) => text.trim())) {
    const state = /^state "([^"]*)" as (\S+)( \{)?$/.exec(line);
    const edge = /^(\S+) --> (\S+) : (.+)$/.exec(line);
    const description = /^(\w+) : (.+)$/.exec(line);
    const factsClass = /^class (\S+) stateFacts$/.exec(line);
    if (state !== null) {
      const box: Box = { id: state[2]!, title: decode(state[1]!), children: [], lines: [] };
      (open.at(-1)?.children ?? top).push(box);
      boxes.set(box.id, box);
      if (state[3] !== undefined) open.push(box);
    } else if (line === '}') {
      open.pop();
    } else if (edge !== null) {
      edges.push(`${edge[1]} --> ${edge[2]} : ${decode(edge[3]!)}`);
    } else if (description !== null) {
      boxes.get(description[1]!)?.lines.push(decode(description[2]!));
    } else if (factsClass !== null) {
      for (const id of factsClass[1]!.split(',')) factBoxes.add(id);
    }
  }
  return { top, boxes, edges, factBoxes };
}

/** The label the brief asks for: shortened XState events, the guard name in brackets. */
function expectedLabel(node: AnyStateNode, eventType: string, guard: unknown): string {
  const after = /^xstate\.after\.(.+)$/.exec(eventType);
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(eventType);
  const snapshot = /^xstate\.snapshot\.(.+)$/.exec(eventType);
  let event = eventType;
  if (eventType === '') event = 'always';
  else if (after !== null && after[1]!.endsWith(`.${node.id}`)) {
    event = `after ${after[1]!.slice(0, -node.id.length - 1)}`;
  } else if (eventType === `xstate.done.state.${node.id}`) event = 'done';
  else if (actor !== null) event = `${actor[1]}: ${actor[2]}`;
  else if (snapshot !== null) event = `snapshot: ${snapshot[1]}`;
  if (guard === undefined) return event;
  const negated = guard as { readonly name?: unknown; readonly guards?: readonly unknown[] };
  if (typeof guard === 'function' && negated.name === 'not' && typeof negated.guards?.[0] === 'string') {
    return `${event} [not(${negated.guards[0]})]`;
  }
  if (typeof guard !== 'string') throw new Error(`teach this test to name the guard of ${node.id} ${event}`);
  return `${event} [${guard}]`;
}

function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap(allNodes)];
}

describe.each(ferryMachines)('the diagram of %s', (_, machine) => {
  const parsed = parseDiagram(toMermaid(machine));
  const nodes = allNodes(machine.root);

  /** State node → its box, found by walking the diagram's nesting with the state keys. */
  const boxOf = new Map<AnyStateNode, Box>();
  const rootBox = parsed.top.find((box) => box.title === machine.id);
  if (rootBox !== undefined) boxOf.set(machine.root, rootBox);
  for (const node of nodes) {
    const box = boxOf.get(node);
    if (box === undefined) continue;
    for (const child of Object.values(node.states)) {
      const matches = box.children.filter((c) => c.title === child.key && !parsed.factBoxes.has(c.id));
      if (matches.length === 1) boxOf.set(child, matches[0]!);
    }
  }
  /** Where a state lists what it does itself: its own box, or the fact box inside a composite one. */
  const linesOf = (node: AnyStateNode): readonly string[] => {
    const box = boxOf.get(node)!;
    if (Object.keys(node.states).length === 0) return box.lines;
    return box.children.find((child) => parsed.factBoxes.has(child.id))?.lines ?? [];
  };

  it('draws every state node inside its parent', () => {
    const missing = nodes.filter((node) => !boxOf.has(node)).map((node) => node.id);
    expect(missing).toEqual([]);
    expect(parsed.boxes.size).toBe(nodes.length + parsed.factBoxes.size);
  });

  it('draws every transition with a target as one edge, and no other edges', () => {
    const expected = nodes.flatMap((node) =>
      [...[...node.transitions.values()].flat(), ...(node.always ?? [])].flatMap((transition) =>
        (transition.target ?? []).map(
          (target) =>
            `${boxOf.get(node)?.id} --> ${boxOf.get(target)?.id} : ${expectedLabel(node, transition.eventType, transition.guard)}`,
        ),
      ),
    );
    expect([...parsed.edges].sort()).toEqual(expected.sort());
  });

  it('lists every targetless transition, invocation and tag inside its state', () => {
    for (const node of nodes) {
      const lines = linesOf(node);
      for (const transition of [...[...node.transitions.values()].flat(), ...(node.always ?? [])]) {
        if ((transition.target ?? []).length > 0) continue;
        const label = expectedLabel(node, transition.eventType, transition.guard);
        expect(
          lines.some((line) => line === label || line.startsWith(`${label} / `)),
          `${node.id}: ${label}`,
        ).toBe(true);
      }
      for (const invoke of node.invoke) {
        expect(
          lines.some((line) => line.startsWith(`invoke ${String(invoke.src)}`)),
          `${node.id}: invoke ${invoke.id}`,
        ).toBe(true);
      }
      if (node.tags.length > 0) expect(lines, node.id).toContain(`tags ${node.tags.join(', ')}`);
    }
  });
});
