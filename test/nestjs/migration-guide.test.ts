/**
 * The original service's migration guide, as written: its `ml.module.ts` lists
 * `MLProducerEnhancedService` in `providers` and `exports`, and a service injects it by that class in
 * its constructor. Only the import path changes (to ferry's Nest entry point). The code is compiled
 * as a Nest application compiles it (decorators with their metadata), then booted: the injected
 * service publishes a task, configured from the environment as the original was.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NestFactory } from '@nestjs/core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MLProducerEnhancedService } from '../../src/nestjs/index.js';
import { createVhost } from '../celery/support.js';

const entry = fileURLToPath(new URL('../../src/nestjs/index.ts', import.meta.url));

/** The guide's `ml.module.ts`, with the import path as the only change, and its injection example. */
const GUIDE = `
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { MLProducerEnhancedService } from '${pathToFileURL(entry).href}';

@Injectable()
export class SharesService {
  constructor(
    private readonly mlProducer: MLProducerEnhancedService,
  ) {}

  summarize(shareId: string) {
    return this.mlProducer.publishSummarizationTask(shareId, { text: 'a page' });
  }
}

@Module({
  providers: [
    MLProducerEnhancedService,
    SharesService,
  ],
  exports: [MLProducerEnhancedService],
})
export class MLModule {}
`;

let vhost: Awaited<ReturnType<typeof createVhost>>;
let dir = '';
const saved = { ...process.env };

beforeAll(async () => {
  vhost = await createVhost();
  dir = mkdtempSync(join(fileURLToPath(new URL('../../', import.meta.url)), '.migration-guide-'));
});
afterAll(async () => {
  process.env = saved;
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  await vhost?.remove();
});

describe("the original migration guide's module and constructor", () => {
  it('compile as written and boot: the injected MLProducerEnhancedService publishes a task', async () => {
    const compiled = ts.transpileModule(GUIDE, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
      },
      reportDiagnostics: true,
    });
    expect(compiled.diagnostics ?? []).toEqual([]);
    const file = join(dir, 'ml.module.mjs');
    writeFileSync(file, compiled.outputText);
    const guide = (await import(pathToFileURL(file).href)) as Record<
      string,
      new (
        ...args: never[]
      ) => unknown
    >;

    // The original's configuration: environment variables.
    process.env.RABBITMQ_URL = vhost.url;
    process.env.FERRY_JOURNAL = 'memory';
    process.env.ML_MAX_MESSAGE_RETRIES = '3';
    const app = await NestFactory.createApplicationContext(guide.MLModule as never, { logger: false });
    try {
      const shares = app.get(guide.SharesService as never) as {
        mlProducer: MLProducerEnhancedService;
        summarize(shareId: string): Promise<{ settled: Promise<string> }>;
      };
      expect(shares.mlProducer).toBeInstanceOf(MLProducerEnhancedService);
      expect(app.get(MLProducerEnhancedService)).toBe(shares.mlProducer);
      const receipt = await shares.summarize('guide-share');
      expect(await receipt.settled).toBe('confirmed');
      expect(shares.mlProducer.isHealthy()).toBe(true);
      expect(shares.mlProducer.getStatus()).toMatchObject({ connectionState: 'connected' });
    } finally {
      await app.close();
    }
  });
});
