/**
 * Environment variables with the service's prefixes that it does not read: a misspelt
 * `ML_MAX_RETRIES` would otherwise leave the default in force without a word. Each is reported with
 * the closest name the service does read, so the fix is one glance away.
 */
import { closest } from 'fastest-levenshtein';
import type { ServiceEnv } from './config.js';

/** The prefixes of the service's own variables. */
export const VARIABLE_PREFIXES: readonly string[] = ['FERRY_', 'ML_', 'RABBITMQ_'];

/** One variable the service does not read, and the known one it most resembles. */
export interface UnknownVariable {
  readonly name: string;
  readonly closest: string;
}

/** The variables of `env` with one of {@link VARIABLE_PREFIXES} that are not in `known`, sorted. */
export function unknownVariables(env: ServiceEnv, known: readonly string[]): UnknownVariable[] {
  const knownSet = new Set(known);
  return Object.keys(env)
    .filter((name) => VARIABLE_PREFIXES.some((prefix) => name.startsWith(prefix)) && !knownSet.has(name))
    .sort()
    .map((name) => ({ name, closest: closest(name, [...known]) }));
}
