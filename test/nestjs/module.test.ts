/**
 * `ferry/nestjs` in a real Nest application context, against the shared broker in a vhost of its own
 * (the task goes to the real `ml.summarize` queue): `forRoot` and `forRootAsync` provide the service,
 * a summarization task is confirmed and lands in its queue, and `app.close()` closes the producer.
 */
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FERRY_MODULE_OPTIONS,
  FerryModule,
  type FerryModuleOptions,
  MlProducerService,
} from '../../src/nestjs/index.js';
import { createVhost } from '../celery/support.js';

let vhost: Awaited<ReturnType<typeof createVhost>>;

beforeAll(async () => {
  vhost = await createVhost();
});
afterAll(() => vhost?.remove());

async function depth(queue: string): Promise<number> {
  const connection = await amqp.connect(vhost.url);
  try {
    return (await (await connection.createChannel()).checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}

/** Publishes one summarization task through the module's service and closes the application. */
async function publishThrough(root: unknown): Promise<void> {
  const app = await NestFactory.createApplicationContext(root as never, { logger: false });
  const service = app.get(MlProducerService);
  const receipt = await service.publishSummarizationTask(
    'nest-share',
    { text: 'Some text' },
    { style: 'brief' },
  );
  expect(await receipt.settled).toBe('confirmed');
  expect(service.isHealthy()).toBe(true);
  expect(service.getStatus()).toMatchObject({ connectionState: 'connected', circuitBreakerOpen: false });
  await app.close();
  expect(service.producer.status().state).toBe('closed');
}

describe('FerryModule', () => {
  it('forRoot: the service publishes a confirmed task, and closing the app closes the producer', async () => {
    class AppModule {}
    Module({ imports: [FerryModule.forRoot({ producer: { connection: { url: vhost.url } } })] })(AppModule);
    await publishThrough(AppModule);
    // The vhost is new: the producer declared the queue, and the task is the only one in it.
    expect(await depth('ml.summarize')).toBe(1);
  });

  it('forRootAsync: options from a factory with injected dependencies', async () => {
    const before = await depth('ml.summarize');
    const URL_TOKEN = Symbol('broker url');
    class ConfigModule {}
    Module({ providers: [{ provide: URL_TOKEN, useValue: vhost.url }], exports: [URL_TOKEN] })(ConfigModule);
    class AppModule {}
    Module({
      imports: [
        FerryModule.forRootAsync({
          imports: [ConfigModule],
          inject: [URL_TOKEN],
          useFactory: (url: string): FerryModuleOptions => ({
            producer: { connection: { url: url } },
            closeTimeoutMs: 1_000,
          }),
        }),
      ],
    })(AppModule);
    await publishThrough(AppModule);
    expect(await depth('ml.summarize')).toBe(before + 1);
  });

  it('boots while the broker is unreachable, and exposes its options', async () => {
    class AppModule {}
    // Nothing listens on port 1: connecting fails, and boot must not wait for it.
    const options = {
      producer: { connection: { url: 'amqp://guest:guest@127.0.0.1:1', reconnect: { maxAttempts: 1 } } },
      closeTimeoutMs: 0,
    };
    Module({ imports: [FerryModule.forRoot(options)] })(AppModule);
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    expect(app.get(FERRY_MODULE_OPTIONS)).toEqual(options);
    const service = app.get(MlProducerService);
    expect(service.isHealthy()).toBe(false);
    const receipt = await service.publishEmbeddingTask('nest-share', { text: 'accepted while down' });
    expect(receipt.messageId).toMatch(/\S/);
    await app.close();
    expect(service.producer.status().state).toBe('closed');
  });
});
