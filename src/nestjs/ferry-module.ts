/**
 * `FerryModule.forRoot(options)` / `forRootAsync({ imports, inject, useFactory })`: provides and
 * exports {@link MlProducerService}. `isGlobal: true` makes it available to every module.
 */
import { Module } from '@nestjs/common';
import { MlProducerService } from './ml-producer-service.js';
import { ConfigurableModuleClass } from './module-definition.js';

/** The Nest module of ferry's ML task producer. */
export class FerryModule extends ConfigurableModuleClass {}

Module({ providers: [MlProducerService], exports: [MlProducerService] })(FerryModule);
