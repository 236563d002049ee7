/**
 * The environment variables of the HTTP surface itself: the optional API token, which routes it
 * covers, and the shutdown's readiness window. Kept apart from the producer's variables in config.ts.
 */
import { z } from 'zod';

/** The schema entries config.ts spreads into its environment schema. */
export const httpAccessEnv = {
  /**
   * A shared secret: with it set, every route but health needs `Authorization: Bearer <token>`. At
   * least 16 characters, so that a placeholder such as `changeme` is not taken for one.
   */
  FERRY_API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** With a token: whether `/metrics` and the live page stay open to anyone (default: they need it). */
  FERRY_OPEN_METRICS: z.stringbool({ error: 'must be true or false' }).default(false),
  /** Milliseconds between SIGTERM and closing the listener, while readiness answers 503. */
  FERRY_SHUTDOWN_DELAY_MS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must be at least 0')
    .max(600_000, 'must be at most 600000')
    .default(3_000),
};

/** The HTTP surface's settings. */
export interface HttpAccess {
  /** The bearer token every protected route needs; none when unset. */
  readonly apiToken: string | undefined;
  /** Whether `/metrics` and the live page are open even with a token. */
  readonly openMetrics: boolean;
  /** How long readiness answers 503 after SIGTERM before the listener closes, ms. */
  readonly shutdownDelayMs: number;
}

/** The settings from the parsed variables. */
export function httpAccess(env: {
  readonly FERRY_API_TOKEN?: string | undefined;
  readonly FERRY_OPEN_METRICS: boolean;
  readonly FERRY_SHUTDOWN_DELAY_MS: number;
}): HttpAccess {
  return {
    apiToken: env.FERRY_API_TOKEN,
    openMetrics: env.FERRY_OPEN_METRICS,
    shutdownDelayMs: env.FERRY_SHUTDOWN_DELAY_MS,
  };
}
