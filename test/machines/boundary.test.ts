/**
 * The machines are pure logic: they import nothing but `xstate` and each other, and they never read the
 * clock, randomness, timers or the process. A journal replayed through them must reach the same states,
 * and every wait must be a machine delay that a simulated clock controls.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const machinesDir = fileURLToPath(new URL('../../machines', import.meta.url));
const rootDir = dirname(machinesDir);

/** A finding: where, and what. */
interface Problem {
  readonly line: number;
  readonly message: string;
}

/** Globals whose use makes a machine depend on something other than its events and input. */
const FORBIDDEN_GLOBALS: ReadonlySet<string> = new Set([
  'setTimeout',
  'setInterval',
  'setImmediate',
  'queueMicrotask',
  'process',
  'require',
  'crypto',
  'performance',
]);

/** `object.member` reads that are not deterministic. */
const FORBIDDEN_MEMBERS: ReadonlySet<string> = new Set(['Date.now', 'Math.random']);

/** Every module specifier a file imports or re-exports, static, dynamic or type-only. */
function moduleSpecifiers(
  file: ts.SourceFile,
): { readonly line: number; readonly specifier: string | null }[] {
  const found: { line: number; specifier: string | null }[] = [];
  const add = (node: ts.Node, expression: ts.Node | undefined): void => {
    const specifier = expression !== undefined && ts.isStringLiteralLike(expression) ? expression.text : null;
    found.push({ line: lineOf(file, node), specifier });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      if (node.moduleSpecifier !== undefined) add(node, node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0]);
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      add(node, ts.isLiteralTypeNode(argument) ? argument.literal : undefined);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** Whether a module may be imported from `importer` inside the machines folder. */
function allowedImport(importer: string, specifier: string): boolean {
  if (specifier === 'xstate' || specifier.startsWith('xstate/')) return true;
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return false;
  return resolve(dirname(importer), specifier).startsWith(machinesDir + sep);
}

/** Whether an identifier is read as a variable (not a property name, key or declaration name). */
function isReference(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) || ts.isQualifiedName(parent)) {
    return ts.isPropertyAccessExpression(parent) ? parent.expression === node : parent.left === node;
  }
  if (
    (ts.isPropertyAssignment(parent) ||
      ts.isPropertySignature(parent) ||
      ts.isPropertyDeclaration(parent) ||
      ts.isMethodDeclaration(parent) ||
      ts.isMethodSignature(parent) ||
      ts.isVariableDeclaration(parent) ||
      ts.isParameter(parent) ||
      ts.isFunctionDeclaration(parent) ||
      ts.isBindingElement(parent)) &&
    parent.name === node
  ) {
    return false;
  }
  return !ts.isImportSpecifier(parent) && !ts.isExportSpecifier(parent) && !ts.isTypeReferenceNode(parent);
}

/** Non-deterministic reads and real timers used in a source file. */
function forbiddenUses(file: ts.SourceFile): Problem[] {
  const problems: Problem[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && FORBIDDEN_GLOBALS.has(node.text) && isReference(node)) {
      problems.push({ line: lineOf(file, node), message: `uses ${node.text}` });
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const member = `${node.expression.text}.${node.name.text}`;
      const viaGlobal = ['globalThis', 'global', 'window'].includes(node.expression.text);
      if (FORBIDDEN_MEMBERS.has(member) || (viaGlobal && FORBIDDEN_GLOBALS.has(node.name.text))) {
        problems.push({ line: lineOf(file, node), message: `uses ${member}` });
      }
    } else if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'Date' &&
      (node.arguments ?? []).length === 0
    ) {
      problems.push({ line: lineOf(file, node), message: 'uses new Date() (the current time)' });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return problems;
}

/** All boundary problems of one file, as `path:line message`. */
function boundaryProblems(path: string, text: string): string[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const name = relative(rootDir, path).split(sep).join('/');
  const imports = moduleSpecifiers(file).flatMap(({ line, specifier }) => {
    if (specifier === null) return [`${name}:${line} imports a module whose name is not a string literal`];
    return allowedImport(path, specifier) ? [] : [`${name}:${line} imports '${specifier}'`];
  });
  const uses = forbiddenUses(file).map(({ line, message }) => `${name}:${line} ${message}`);
  return [...imports, ...uses];
}

function lineOf(file: ts.SourceFile, node: ts.Node): number {
  return file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
}

const machineFiles = readdirSync(machinesDir, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts'))
  .sort()
  .map((file) => join(machinesDir, file));

describe('machines/ boundary', () => {
  it('has machine sources to check', () => {
    expect(machineFiles.map((file) => relative(machinesDir, file))).toContain('connection.machine.ts');
  });

  it('imports nothing but xstate and its own files, and never reads the clock, randomness, timers or the process', () => {
    const problems = machineFiles.flatMap((file) => boundaryProblems(file, readFileSync(file, 'utf8')));
    expect(problems).toEqual([]);
  });

  it('the checker finds each kind of violation (so the test above can fail)', () => {
    const path = join(machinesDir, 'fake.machine.ts');
    const source = [
      "import { setup } from 'xstate';",
      "import { createActor } from 'xstate/actors';",
      "import { backoffDelay } from './backoff.js';",
      "import { readFileSync } from 'node:fs';",
      "import type { Channel } from 'amqplib';",
      "export { helper } from '../src/helper.js';",
      "const lazy = () => import('rxjs');",
      "type Later = typeof import('../src/later.js');",
      'const stamp = Date.now();',
      'const roll = Math.random();',
      'setTimeout(() => undefined, 10);',
      'const timer = globalThis.setInterval;',
      'const env = process.env.FERRY;',
      "const fs = require('node:fs');",
      'const today = new Date();',
      'const fixed = new Date(0);',
      '/** Math.random() and Date.now() in comments are fine. */',
      "const text = 'setTimeout in a string is fine';",
      'const settings = { setTimeout: 1, process: 2 };',
    ].join('\n');
    expect(boundaryProblems(path, source)).toEqual([
      "machines/fake.machine.ts:4 imports 'node:fs'",
      "machines/fake.machine.ts:5 imports 'amqplib'",
      "machines/fake.machine.ts:6 imports '../src/helper.js'",
      "machines/fake.machine.ts:7 imports 'rxjs'",
      "machines/fake.machine.ts:8 imports '../src/later.js'",
      'machines/fake.machine.ts:9 uses Date.now',
      'machines/fake.machine.ts:10 uses Math.random',
      'machines/fake.machine.ts:11 uses setTimeout',
      'machines/fake.machine.ts:12 uses globalThis.setInterval',
      'machines/fake.machine.ts:13 uses process',
      'machines/fake.machine.ts:14 uses require',
      'machines/fake.machine.ts:15 uses new Date() (the current time)',
    ]);
  });
});
