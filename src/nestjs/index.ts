/**
 * `ferry/nestjs`: ferry as a Nest module. `@nestjs/common` is an optional peer dependency: only this
 * entry point imports it.
 *
 * ```ts
 * @Module({ imports: [FerryModule.forRoot({ producer: { connection: { url: process.env.RABBITMQ_URL } } })] })
 * export class AppModule {}
 * // then inject MlProducerService: publishSummarizationTask, …, isHealthy, getStatus
 * ```
 *
 * Or, as the original service's migration guide has it, list `MLProducerEnhancedService` in a module's
 * `providers` and inject it by that class (settings from the environment; see docs/operations/runbook.md).
 */
export { FerryModule } from './ferry-module.js';
export { MLProducerEnhancedService, optionsFromEnvironment } from './ml-producer-enhanced-service.js';
export { MlProducerService } from './ml-producer-service.js';
export { FERRY_MODULE_OPTIONS, type FerryModuleOptions } from './module-definition.js';
