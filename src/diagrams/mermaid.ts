/**
 * Mermaid `stateDiagram-v2` drawn from a machine definition, so the diagrams in the docs cannot drift
 * from the machines.
 *
 * Layout of the output, chosen to survive both Mermaid parsers (the jison one and its chevrotain port):
 * - the machine is the outermost composite state, titled with the machine id, so transitions and
 *   invocations on the root have a state to belong to;
 * - every state is declared where it lives (`state "key" as id`, nested `{ … }` blocks, parallel regions
 *   separated by `--`) before any transition mentions it, because Mermaid places a state in the first
 *   block that names it; `[*]` markers follow the declarations of their block;
 * - transitions with a target are edges at the top level, `source --> target : event [guard]`;
 * - what happens inside a state (invocations, tags, entry/exit actions, transitions without a target,
 *   written `event [guard] / actions`) is extra description lines of an atomic state; a composite state
 *   gets a dashed box `while <key>` (`whole machine` for the root) holding those lines, because Mermaid
 *   refuses descriptions on composite states and long composite titles wreck the layout.
 *
 * Ids are the state path joined with `_`, changed only where Mermaid would misread them; labels carry
 * the real names. Text is escaped with Mermaid's `#<code>;` entities.
 */
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';
import {
  actionLabels,
  childrenOf,
  invokeLabel,
  ownTransitionsOf,
  stateNodesOf,
  transitionLabel,
} from './state-nodes.js';

const INDENT = '  ';

/** The style of the boxes that list what a composite state does itself. */
const FACTS_CLASS = 'stateFacts';

/** The machine as a Mermaid `stateDiagram-v2`; the same definition always gives the same text. */
export function toMermaid(machine: AnyStateMachine): string {
  const ids = mermaidIds(machine);
  const lines = ['stateDiagram-v2'];
  writeState(machine.root, machine.id, 1, ids, lines);
  for (const node of stateNodesOf(machine)) {
    for (const transition of ownTransitionsOf(node)) {
      const label = escapeMermaidText(transitionLabel(node, transition));
      for (const target of targetsOf(transition)) {
        // Transitions only target nodes of the same machine, and every node has an id.
        lines.push(`${INDENT}${ids.states.get(node)!} --> ${ids.states.get(target)!} : ${label}`);
      }
    }
  }
  if (ids.facts.size > 0) {
    lines.push(`${INDENT}classDef ${FACTS_CLASS} fill:none,stroke-dasharray:4 4`);
    lines.push(`${INDENT}class ${[...ids.facts.values()].join(',')} ${FACTS_CLASS}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Mermaid ids: one per state node, and one per box listing what a composite state does itself (named
 * after the state with `_facts`).
 */
export interface MermaidIds {
  readonly states: ReadonlyMap<AnyStateNode, string>;
  readonly facts: ReadonlyMap<AnyStateNode, string>;
}

/**
 * The Mermaid id of every state node: its path joined with `_` (the machine id for the root), made
 * unique, and kept clear of Mermaid keywords and of the `<composite>_start`/`_end` ids Mermaid gives
 * the `[*]` pseudo-states. Fact boxes are named after all states are, so they never push a state
 * off its natural id.
 */
export function mermaidIds(machine: AnyStateMachine): MermaidIds {
  const taken = new Set(['root', 'root_start', 'root_end']);
  const claim = (base: string, composite: boolean): string => {
    const free = (id: string): boolean =>
      !taken.has(id) && (!composite || (!taken.has(`${id}_start`) && !taken.has(`${id}_end`)));
    let id = base;
    for (let suffix = 2; !free(id); suffix += 1) id = `${base}_${suffix}`;
    taken.add(id);
    if (composite) taken.add(`${id}_start`).add(`${id}_end`);
    return id;
  };
  const nodes = stateNodesOf(machine);
  const states = new Map<AnyStateNode, string>();
  for (const node of nodes) {
    states.set(node, claim(safeId(node.path.length === 0 ? [machine.id] : node.path), isComposite(node)));
  }
  const facts = new Map<AnyStateNode, string>();
  for (const node of nodes) {
    if (isComposite(node) && stateFacts(node).length > 0) {
      facts.set(node, claim(`${states.get(node)!}_facts`, false));
    }
  }
  return { states, facts };
}

function isComposite(node: AnyStateNode): boolean {
  return childrenOf(node).length > 0;
}

/** Words Mermaid's state lexers read as keywords when they start a statement. */
const KEYWORDS: ReadonlySet<string> = new Set([
  'as',
  'class',
  'classdef',
  'click',
  'end',
  'hide',
  'href',
  'note',
  'root',
  'scale',
  'state',
  'statediagram',
  'style',
]);

function safeId(path: readonly string[]): string {
  const joined = path.map((key) => key.replace(/[^A-Za-z0-9_]/g, '_')).join('_') || 's';
  // `direction <tb|bt|rl|lr>` anywhere on a line, even across a line break, is a direction statement.
  const id = joined.replace(/(direc)(tion)/gi, '$1_$2');
  return /^default/i.test(id) || KEYWORDS.has(id.toLowerCase()) ? `s_${id}` : id;
}

const SAFE_CHAR = /^[\p{L}\p{N} .,_()[\]/+=!?'·-]$/u;

/**
 * Text made safe for a Mermaid label, state title or description: everything outside a small set of
 * plain characters becomes a `#<code>;` entity (Mermaid decodes those after parsing), and `direction`
 * is broken up so it cannot be read as a direction statement.
 */
export function escapeMermaidText(text: string): string {
  let escaped = '';
  for (const char of text) escaped += SAFE_CHAR.test(char) ? char : `#${char.codePointAt(0)};`;
  return escaped.replace(/(direc)(t)(ion)/gi, (_, head: string, t: string, tail: string) => {
    return `${head}#${t.codePointAt(0)};${tail}`;
  });
}

function writeState(
  node: AnyStateNode,
  label: string,
  depth: number,
  ids: MermaidIds,
  lines: string[],
): void {
  const pad = INDENT.repeat(depth);
  const id = ids.states.get(node)!;
  const facts = stateFacts(node);
  const children = childrenOf(node);
  if (children.length === 0) {
    writeBox(pad, id, label, facts, lines);
    return;
  }
  lines.push(`${pad}state "${escapeMermaidText(label)}" as ${id} {`);
  const inner = pad + INDENT;
  const factsId = ids.facts.get(node);
  if (factsId !== undefined) {
    writeBox(inner, factsId, node.path.length === 0 ? 'whole machine' : `while ${label}`, facts, lines);
  }
  children.forEach((child, index) => {
    if (index > 0 && node.type === 'parallel') lines.push(`${inner}--`);
    writeState(child, child.key, depth + 1, ids, lines);
  });
  if (node.type === 'compound') {
    for (const initial of node.initial.target) lines.push(`${inner}[*] --> ${ids.states.get(initial)!}`);
  }
  for (const child of children) {
    if (child.type === 'final') lines.push(`${inner}${ids.states.get(child)!} --> [*]`);
  }
  lines.push(`${pad}}`);
}

/** An atomic box: the title, then one description line per fact. */
function writeBox(pad: string, id: string, title: string, facts: readonly string[], lines: string[]): void {
  lines.push(`${pad}state "${escapeMermaidText(title)}" as ${id}`);
  for (const fact of facts) lines.push(`${pad}${id} : ${escapeMermaidText(fact)}`);
}

/** What a state does besides moving elsewhere, one short line each. */
function stateFacts(node: AnyStateNode): readonly string[] {
  const facts = node.invoke.map(invokeLabel);
  if (node.tags.length > 0) facts.push(`tags ${node.tags.join(', ')}`);
  for (const [name, actions] of [
    ['entry', node.entry],
    ['exit', node.exit],
  ] as const) {
    const labels = actionLabels(actions);
    if (labels.length > 0) facts.push(`${name} ${labels.join(', ')}`);
  }
  if (node.type === 'history') facts.push(historyFact(node));
  for (const transition of ownTransitionsOf(node)) {
    if (targetsOf(transition).length > 0) continue;
    const actions = actionLabels(transition.actions);
    const effect = actions.length > 0 ? ` / ${actions.join(', ')}` : '';
    facts.push(`${transitionLabel(node, transition)}${effect}`);
  }
  return facts;
}

function historyFact(node: AnyStateNode): string {
  const target = (node.config as { readonly target?: unknown }).target;
  const fallback = target === undefined ? '' : `, default ${[target].flat().join(', ')}`;
  return `history ${node.history === 'deep' ? 'deep' : 'shallow'}${fallback}`;
}

function targetsOf(transition: AnyTransitionDefinition): readonly AnyStateNode[] {
  return transition.target ?? [];
}
