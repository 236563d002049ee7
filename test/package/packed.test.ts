/**
 * ferry as a dependency: the project is built and packed, the tarball is unpacked into a fresh strict
 * TypeScript project (exactOptionalPropertyTypes, noUncheckedIndexedAccess, NodeNext, skipLibCheck
 * false) whose other dependencies are linked from this checkout's node_modules (no registry), and
 * there a small program naming `ProducerEvent`, switching over `lastError.code` and publishing with the
 * memory journal type-checks and runs; so do the README's TypeScript examples, as pasted (the Nest ones
 * without decorator flags).
 *
 * Slow for a unit test (a build and a pack: about 30-60 s on a loaded machine).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readmeExamples } from './readme-examples.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

const STRICT = {
  target: 'ES2022',
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
  types: ['node'],
  outDir: 'out',
};

const PROGRAM = `
import { createProducer, FerryError, type FerryErrorCode, type ProducerEvent } from 'ferry';

function advice(code: FerryErrorCode): string {
  switch (code) {
${Object.keys((await import('../../src/errors.js')).FERRY_ERROR_CODES)
  .map((code) => `    case '${code}':`)
  .join('\n')}
      return code;
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

const seen: ProducerEvent[] = [];
const producer = createProducer({ journal: { kind: 'memory' }, connection: { url: 'amqp://guest:guest@127.0.0.1:1' } });
const receipt = await producer.publish({ exchange: 'x', routingKey: 'k', body: { n: 1 } });
const lastError = producer.status().connection.lastError;
const code: string = lastError === null ? 'none' : advice(lastError.code);
await producer.close({ timeoutMs: 0 });
const outcome = await receipt.settled.then(String, (error: unknown) => (error instanceof FerryError ? error.code : 'other'));
process.stdout.write(JSON.stringify({ messageId: receipt.messageId, code, outcome, events: seen.length, state: producer.status().state }));
`;

let project = '';

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'ferry-packed-'));
  await run(process.execPath, [TSC, '-p', 'tsconfig.build.json'], { cwd: ROOT });
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', project], { cwd: ROOT });
  const tarball = join(project, stdout.trim().split('\n').pop() ?? '');
  const modules = join(project, 'node_modules');
  await mkdir(join(modules, 'ferry'), { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', join(modules, 'ferry'), '--strip-components=1']);
  // Every other package from this checkout, linked: the registry is not needed.
  for (const name of await readdir(join(ROOT, 'node_modules'))) {
    if (name === 'ferry' || name.startsWith('.')) continue;
    await symlink(join(ROOT, 'node_modules', name), join(modules, name));
  }
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'user', type: 'module', private: true }),
  );
}, 180_000);

afterAll(async () => {
  if (project !== '') await rm(project, { recursive: true, force: true });
});

async function typecheck(files: Readonly<Record<string, string>>, extra: object = {}): Promise<string> {
  const dir = await mkdtemp(join(project, 'check-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { ...STRICT, ...extra }, files: Object.keys(files) }),
  );
  const result = await run(process.execPath, [TSC, '-p', dir]).then(
    () => '',
    (error: { stdout?: string }) => error.stdout ?? String(error),
  );
  return result === '' ? dir : `FAILED\n${result}`;
}

it('type-checks under skipLibCheck false and runs: publish with the memory journal, close, CLOSED', async () => {
  const dir = await typecheck({ 'main.ts': PROGRAM });
  expect(dir).not.toMatch(/^FAILED/);
  const { stdout } = await run(process.execPath, [join(dir, 'out/main.js')], { cwd: dir });
  const result = JSON.parse(stdout) as Record<string, unknown>;
  expect(result).toMatchObject({ code: 'none', outcome: 'CLOSED', events: 0, state: 'closed' });
  expect(result.messageId).toMatch(/^[0-9a-f-]{36}$/);
}, 60_000);

it('ships the error reference and source maps that carry their sources', async () => {
  const shipped = join(project, 'node_modules/ferry');
  const errors = await readFile(join(shipped, 'docs/errors.md'), 'utf8');
  expect(errors).toContain('`ACCESS_REFUSED`');
  const map = JSON.parse(await readFile(join(shipped, 'dist/src/index.js.map'), 'utf8')) as {
    sourcesContent?: string[];
  };
  expect(map.sourcesContent?.[0]).toContain('createProducer');
});

it("compiles the README's TypeScript examples as pasted", async () => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const examples = readmeExamples(readme);
  expect(examples.length).toBeGreaterThanOrEqual(3);
  const files = Object.fromEntries(examples.map((example, index) => [`example-${index}.ts`, example.code]));
  // Each example is a module of its own. Without experimentalDecorators or emitDecoratorMetadata: the
  // README's Nest examples must work with TypeScript's standard decorators. The root entry point's
  // typings are checked with skipLibCheck false above; ferry/testing's carry XState's, which do not
  // check under exactOptionalPropertyTypes, so the examples skip library checks.
  const dir = await typecheck(files, { noEmit: true, skipLibCheck: true });
  expect(dir).not.toMatch(/^FAILED/);
}, 60_000);
