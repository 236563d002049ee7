/**
 * The original gateway's ML producer service as a Nest provider: the same method names, delegating to
 * ferry's task layer. The producer starts with the module without holding up the application's boot
 * (a broker that is down is retried while tasks are accepted into the journal) and drains and closes
 * before the application shuts down.
 *
 * Written without decorator syntax (Nest's decorators applied as functions), so that neither ferry nor
 * an application needs `experimentalDecorators` / `emitDecoratorMetadata` for it.
 */
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnModuleInit,
} from '@nestjs/common';
import { createProducer, type Producer } from '../producer/producer.js';
import type { PublishReceipt } from '../producer/receipt.js';
import { mlProducerOptions } from '../tasks/ml-producer-options.js';
import { createMlTasks, type MlTaskStatus, type MlTasks } from '../tasks/ml-tasks.js';
import { type FerryModuleOptions, MODULE_OPTIONS_TOKEN } from './module-definition.js';

/** Publishes ML tasks; inject it wherever a service needs to enqueue one (`MLProducerService`). */
export class MlProducerService implements OnModuleInit, BeforeApplicationShutdown {
  /** The producer behind the tasks: `status()`, `state$`, `events$`, metrics. */
  readonly producer: Producer;
  /** The task layer the methods delegate to. */
  readonly tasks: MlTasks;
  private readonly logger = new Logger('FerryModule');

  constructor(private readonly options: FerryModuleOptions) {
    this.producer = createProducer(mlProducerOptions(options.producer), options.dependencies);
    this.tasks = createMlTasks(this.producer, options.tasks);
  }

  /** Starts connecting; does not wait for the broker. */
  onModuleInit(): void {
    this.producer.start().then(
      () => this.logger.log('connected to RabbitMQ'),
      (error: unknown) =>
        this.logger.error(
          `not connected yet; accepting tasks and retrying: ${error instanceof Error ? error.message : String(error)}`,
        ),
    );
  }

  /** Waits for unconfirmed tasks (up to `closeTimeoutMs`), then closes the producer. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.producer.close(
      this.options.closeTimeoutMs === undefined ? {} : { timeoutMs: this.options.closeTimeoutMs },
    );
  }

  /** See {@link MlTasks.publishSummarizationTask}. */
  publishSummarizationTask(
    ...args: Parameters<MlTasks['publishSummarizationTask']>
  ): Promise<PublishReceipt> {
    return this.tasks.publishSummarizationTask(...args);
  }

  /** See {@link MlTasks.publishTranscriptionTask}. */
  publishTranscriptionTask(
    ...args: Parameters<MlTasks['publishTranscriptionTask']>
  ): Promise<PublishReceipt> {
    return this.tasks.publishTranscriptionTask(...args);
  }

  /** See {@link MlTasks.publishEmbeddingTask}. */
  publishEmbeddingTask(...args: Parameters<MlTasks['publishEmbeddingTask']>): Promise<PublishReceipt> {
    return this.tasks.publishEmbeddingTask(...args);
  }

  /** See {@link MlTasks.publishBatchEmbeddingTask}. */
  publishBatchEmbeddingTask(
    ...args: Parameters<MlTasks['publishBatchEmbeddingTask']>
  ): Promise<PublishReceipt> {
    return this.tasks.publishBatchEmbeddingTask(...args);
  }

  /** The original `isHealthy()`: connected and the breaker not open. */
  isHealthy(): boolean {
    return this.tasks.isHealthy();
  }

  /** The original `getStatus()`. */
  getStatus(): MlTaskStatus {
    return this.tasks.getStatus();
  }
}

Injectable()(MlProducerService);
Inject(MODULE_OPTIONS_TOKEN)(MlProducerService, undefined, 0);
