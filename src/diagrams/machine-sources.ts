/**
 * Finding the machines to document: the XState machines among a module's exports, the file that
 * declares each one, and that file's leading doc comment (what the machine is for).
 *
 * @internal
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { AnyStateMachine } from 'xstate';

/** A machine to document, with where it comes from. */
export interface MachineSource {
  /** The name it is exported under, e.g. `connectionMachine`. */
  readonly exportName: string;
  readonly machine: AnyStateMachine;
  /** The declaring file relative to the project root, `/`-separated; `null` when not found. */
  readonly file: string | null;
  /** The declaring file's leading doc comment, without comment markers; `null` when it has none. */
  readonly comment: string | null;
}

/** Where to look: the project root (paths are shown relative to it) and the machines folder in it. */
export interface MachineSourceDirs {
  readonly rootDir: string;
  readonly machinesDir: string;
}

/**
 * Whether a value is an XState machine: it has a root state node, its config and implementations, and
 * can be given other implementations. Duck-typed so a second copy of `xstate` does not hide a machine.
 */
export function isStateMachine(value: unknown): value is AnyStateMachine {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<'root' | 'config' | 'implementations' | 'provide', unknown>>;
  return (
    typeof candidate.root === 'object' &&
    candidate.root !== null &&
    typeof candidate.config === 'object' &&
    typeof candidate.implementations === 'object' &&
    typeof candidate.provide === 'function'
  );
}

/** The machines among a module's exports, sorted by export name. */
export function machineSources(
  moduleExports: Readonly<Record<string, unknown>>,
  dirs: MachineSourceDirs,
): readonly MachineSource[] {
  const declarations = exportedConstants(dirs);
  return Object.keys(moduleExports)
    .sort()
    .flatMap((exportName) => {
      const machine = moduleExports[exportName];
      if (!isStateMachine(machine)) return [];
      const file = declarations.get(exportName);
      return [
        {
          exportName,
          machine,
          file: file === undefined ? null : relative(dirs.rootDir, file).split(sep).join('/'),
          comment: file === undefined ? null : leadingDocComment(readFileSync(file, 'utf8')),
        },
      ];
    });
}

/** Exported constant name → the `.ts` file under the machines folder that declares it. */
function exportedConstants(dirs: MachineSourceDirs): ReadonlyMap<string, string> {
  const declarations = new Map<string, string>();
  const files = readdirSync(dirs.machinesDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .sort();
  for (const file of files) {
    const path = join(dirs.machinesDir, file);
    for (const match of readFileSync(path, 'utf8').matchAll(/^export\s+const\s+([\w$]+)/gm)) {
      declarations.set(match[1]!, path);
    }
  }
  return declarations;
}

/**
 * The `/** … *\/` comment a file starts with, its ` * ` margins removed; `null` if the file starts with
 * anything else.
 */
export function leadingDocComment(source: string): string | null {
  const match = /^\s*\/\*\*([\s\S]*?)\*\//.exec(source);
  if (match === null) return null;
  const lines = match[1]!.split('\n').map((line) => line.replace(/^\s*\* ?/, '').trimEnd());
  const text = lines.join('\n').trim();
  return text === '' ? null : text;
}
