/**
 * The options of {@link FerryModule} and the `forRoot` / `forRootAsync` methods Nest's
 * `ConfigurableModuleBuilder` derives from them.
 */
import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ProducerOptions } from '../producer/options.js';
import type { ProducerDependencies } from '../producer/producer.js';
import type { MlTasksOptions } from '../tasks/ml-tasks.js';

/** What `FerryModule.forRoot(...)` (or the factory of `forRootAsync`) gives. */
export interface FerryModuleOptions {
  /**
   * The producer's options (broker URL, journal, retries…); every field has a default, and the ML
   * topology is declared unless `topology` says otherwise (see `mlProducerOptions` of `ferry/tasks`).
   */
  readonly producer?: ProducerOptions;
  /** The task layer's options (preferred backends, exchange, Celery origin). */
  readonly tasks?: MlTasksOptions;
  /** Replaceable parts of the producer (an inspector, a journal instance…). */
  readonly dependencies?: ProducerDependencies;
  /** How long shutdown waits for unconfirmed tasks before closing; the producer's `closeTimeoutMs` otherwise. */
  readonly closeTimeoutMs?: number;
}

/** What Nest's module builder generates: the base class of `FerryModule` (`forRoot`, `forRootAsync`) and its options token. */
export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } =
  new ConfigurableModuleBuilder<FerryModuleOptions>()
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();

/** The token the module's options are provided under, for `@Inject(FERRY_MODULE_OPTIONS)`. */
export const FERRY_MODULE_OPTIONS = MODULE_OPTIONS_TOKEN;
