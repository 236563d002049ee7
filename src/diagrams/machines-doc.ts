/**
 * `docs/machines.md`: every exported machine with its purpose, its diagram and the named parts it uses,
 * all derived from the definitions so the document is regenerated rather than maintained.
 */
import { type ImplementationUse, implementationUses } from './implementations.js';
import type { MachineSource } from './machine-sources.js';
import { toMermaid } from './mermaid.js';

/** The command that regenerates the document; the staleness test quotes it. */
export const MACHINES_DOC_COMMAND = 'npm run docs:machines';

/** The document's path relative to the project root. */
export const MACHINES_DOC_PATH = 'docs/machines.md';

const HOW_TO_READ = `How to read the diagrams:

- An arrow is a transition, labelled \`event [guard]\`. XState's own events are shortened: \`after <delay>\`
  is a timer, \`done: <actor>\` / \`error: <actor>\` / \`snapshot: <actor>\` come from an invoked actor,
  \`done\` means the state's own regions or children finished, \`always\` is an eventless transition.
- Lines inside a state list what it does without leaving it: \`invoke <actor>\` (running while the state
  is active), \`tags …\`, \`entry …\` / \`exit …\` actions, and transitions without a target written
  \`event [guard] / actions\`.
- For a composite state those lines sit in a dashed box, \`while <state>\` (\`whole machine\` for the
  root), because Mermaid cannot put them on the composite state itself.
- Parallel regions are separated by dashed lines; \`[*]\` marks the initial state and, as an arrow's
  target, a final state.`;

/** The whole document for the given machines, in the order given. */
export function renderMachinesDoc(sources: readonly MachineSource[]): string {
  const parts = [
    '# State machines',
    `<!-- Generated from the machines exported by machines/index.ts. Do not edit: run \`${MACHINES_DOC_COMMAND}\`. -->`,
    "ferry's behaviour lives in XState machines under `machines/`; the runtime only provides their effects. " +
      `This page is generated from the machine definitions themselves (\`${MACHINES_DOC_COMMAND}\`), ` +
      'and a test fails when it is out of date, so the diagrams are what the code does.',
    table(
      ['Machine', 'Id', 'File', 'What it is for'],
      sources.map((source) => [
        `[\`${source.exportName}\`](#${source.exportName.toLowerCase()})`,
        code(source.machine.id),
        source.file === null ? '—' : code(source.file),
        firstParagraph(source.comment),
      ]),
    ),
    HOW_TO_READ,
    ...sources.map(machineSection),
  ];
  return `${parts.join('\n\n')}\n`;
}

function machineSection(source: MachineSource): string {
  const parts = [`## ${source.exportName}`];
  if (source.comment !== null) parts.push(source.comment);
  parts.push(`\`\`\`mermaid\n${toMermaid(source.machine)}\`\`\``);
  const uses = implementationUses(source.machine);
  parts.push(
    uses.length === 0
      ? 'No named actions, guards, delays, actors or tags.'
      : table(['Kind', 'Name', 'Used in'], uses.map(useRow)),
  );
  return parts.join('\n\n');
}

function useRow(use: ImplementationUse): readonly string[] {
  const usedIn =
    use.usedIn.length === 0 ? '— (no state refers to it directly)' : use.usedIn.map(code).join(', ');
  return [use.kind, code(use.name), usedIn];
}

/** The first paragraph of a doc comment on one line, for the overview table. */
function firstParagraph(comment: string | null): string {
  if (comment === null) return '—';
  const [first = ''] = comment.split(/\n\s*\n/);
  return escapeCell(first.replace(/\s*\n\s*/g, ' '));
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function code(text: string): string {
  return `\`${escapeCell(text)}\``;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
