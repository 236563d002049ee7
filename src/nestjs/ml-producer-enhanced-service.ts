/**
 * `MLProducerEnhancedService`: the original gateway's enhanced ML producer, under its own name, so that
 * its migration guide works by changing only the import path (`from 'ferry/nestjs'`). Listed directly
 * in a module's `providers` as the guide's `ml.module.ts` does, it reads its settings from the same
 * environment variables the original read (and `ferry serve` reads: src/service/config.ts); provided
 * by `FerryModule.forRoot(...)` instead, it takes that module's options.
 */
import { Inject, Injectable, Optional } from '@nestjs/common';
import { FerryError } from '../errors.js';
import { formatConfigProblems, loadServiceConfig, type ServiceEnv } from '../service/config.js';
import { MlProducerService } from './ml-producer-service.js';
import { type FerryModuleOptions, MODULE_OPTIONS_TOKEN } from './module-definition.js';

/**
 * The module options the environment gives.
 *
 * @throws FerryError `INVALID_OPTIONS` naming every bad variable.
 */
export function optionsFromEnvironment(env: ServiceEnv): FerryModuleOptions {
  const loaded = loadServiceConfig(env);
  if (!loaded.ok) throw new FerryError('INVALID_OPTIONS', formatConfigProblems(loaded.problems));
  return {
    producer: loaded.config.producer,
    tasks: { preferredBackends: loaded.config.preferredBackends },
  };
}

/** {@link MlProducerService} under the original enhanced service's name; see the module comment. */
export class MLProducerEnhancedService extends MlProducerService {
  constructor(options?: FerryModuleOptions) {
    super(options ?? optionsFromEnvironment(process.env));
  }
}

Injectable()(MLProducerEnhancedService);
Inject(MODULE_OPTIONS_TOKEN)(MLProducerEnhancedService, undefined, 0);
Optional()(MLProducerEnhancedService, undefined, 0);
