/**
 * The README's Nest examples compiled as a project without `experimentalDecorators` and
 * `emitDecoratorMetadata` compiles them (TypeScript's standard decorators, no parameter types
 * emitted), then booted against the broker in a vhost of its own: the module form boots, and the
 * factory provider gets the module's `MlProducerService` and publishes a confirmed task. A class that
 * relies on its constructor's parameter type instead gets nothing, which is why the README says so.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NestFactory } from '@nestjs/core';
import ts from 'typescript';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MlProducerService } from '../../src/nestjs/index.js';
import { createVhost } from '../celery/support.js';
import { readmeExamples } from '../package/readme-examples.js';

const root = new URL('../../', import.meta.url);
const entry = pathToFileURL(fileURLToPath(new URL('src/nestjs/index.ts', root))).href;

/** A class injected by its constructor's parameter type, the form that needs both flags. */
const BY_PARAMETER_TYPE = `
import { Injectable, Module } from '@nestjs/common';
import { FerryModule, MlProducerService } from 'ferry/nestjs';

@Injectable()
export class ByType {
  constructor(readonly ml: MlProducerService) {}
}

@Module({ imports: [FerryModule.forRoot({ producer: { connection: { url: process.env.RABBITMQ_URL } } })], providers: [ByType] })
export class ByTypeModule {}
`;

type Exports = Record<string, new (...args: never[]) => unknown>;

let vhost: Awaited<ReturnType<typeof createVhost>>;
let dir = '';
const savedUrl = process.env.RABBITMQ_URL;

beforeAll(async () => {
  vhost = await createVhost();
  process.env.RABBITMQ_URL = vhost.url;
  dir = mkdtempSync(join(fileURLToPath(root), '.no-decorator-flags-'));
});
afterAll(async () => {
  if (savedUrl === undefined) delete process.env.RABBITMQ_URL;
  else process.env.RABBITMQ_URL = savedUrl;
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  await vhost?.remove();
});

/** Compiles `source` with neither decorator flag, imports `ferry/nestjs` from this checkout, loads it. */
async function load(name: string, source: string): Promise<Exports> {
  const compiled = ts.transpileModule(source.replaceAll("'ferry/nestjs'", `'${entry}'`), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    reportDiagnostics: true,
  });
  expect(compiled.diagnostics ?? []).toEqual([]);
  // Standard decorators: no parameter types are emitted for Nest to read.
  expect(compiled.outputText).not.toContain('design:paramtypes');
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, compiled.outputText);
  return (await import(pathToFileURL(file).href)) as Exports;
}

const readme = readmeExamples(readFileSync(new URL('README.md', root), 'utf8')).filter(
  (example) => example.tag === 'nestjs',
);

it('the README has the module example and the factory-provider example', () => {
  expect(readme.map((example) => example.code.includes('inject: [MlProducerService]'))).toEqual([
    false,
    true,
  ]);
});

it("boots the README's module example", async () => {
  const { AppModule } = await load('app-module', readme[0]?.code ?? '');
  const app = await NestFactory.createApplicationContext(AppModule as never, { logger: false });
  try {
    expect(app.get(MlProducerService)).toBeInstanceOf(MlProducerService);
  } finally {
    await app.close();
  }
});

it("the README's factory provider gets the module's service and publishes a confirmed task", async () => {
  const { SharesModule, SharesService } = await load('shares-module', readme[1]?.code ?? '');
  const app = await NestFactory.createApplicationContext(SharesModule as never, { logger: false });
  try {
    const shares = app.get(SharesService as never) as {
      ml: MlProducerService;
      summarize(shareId: string, text: string): Promise<{ settled: Promise<string> }>;
    };
    expect(shares.ml).toBe(app.get(MlProducerService));
    const receipt = await shares.summarize('flagless-share', 'Some text');
    expect(await receipt.settled).toBe('confirmed');
  } finally {
    await app.close();
  }
});

it('a class injected by its parameter type gets nothing without the flags', async () => {
  const { ByType, ByTypeModule } = await load('by-type', BY_PARAMETER_TYPE);
  const app = await NestFactory.createApplicationContext(ByTypeModule as never, { logger: false });
  try {
    expect((app.get(ByType as never) as { ml: unknown }).ml).toBeUndefined();
  } finally {
    await app.close();
  }
});
