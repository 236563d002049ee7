/**
 * Compiles the child process's code (bench/, src/, machines/) to plain JavaScript before the runs, so
 * that the children run without a TypeScript loader: a loader's transpile cache and hooks would count
 * towards every client's CPU and RSS, and most towards ferry's, whose own source is TypeScript.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

/** The folders the child imports from, relative to the project root. */
const SOURCES = ['bench', 'src', 'machines'];

function* typescriptFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* typescriptFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/**
 * Writes the compiled tree under `outDir` (inside the project, so that `node_modules` resolves) and
 * returns the path of the compiled child entry point. Remove it with {@link removeBuild}.
 */
export function buildChild(root: string, outDir: string): string {
  for (const source of SOURCES) {
    for (const file of typescriptFiles(join(root, source))) {
      const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
        fileName: file,
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          verbatimModuleSyntax: true,
        },
      });
      const target = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, outputText);
    }
  }
  return join(outDir, 'bench', 'child.js');
}

/** Removes a tree written by {@link buildChild}. */
export function removeBuild(outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
}
