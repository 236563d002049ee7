/**
 * Failures as plain data, so that they can be journaled, compared in tests and read by guards.
 *
 * The runtime's error class carries the same `code`, `message` and `permanent` fields; machines only
 * ever see this shape, which keeps them free of the runtime's imports.
 */

/** A failure a machine reacts to. */
export interface Failure {
  /** Machine-readable: an AMQP reply name (`NOT_FOUND`), a socket code (`ECONNREFUSED`) or ferry's own. */
  readonly code: string;
  /** For people; never contains credentials or message bodies. */
  readonly message: string;
  /** Retrying cannot help (bad credentials, no vhost access, a message the broker will never take). */
  readonly permanent: boolean;
}

/**
 * Reads a failure out of whatever an actor rejected with. Anything without the fields is a transient
 * failure with code `UNKNOWN`: unknown errors are retried, never dropped.
 */
export function toFailure(error: unknown): Failure {
  if (typeof error === 'object' && error !== null) {
    const candidate = error as { code?: unknown; message?: unknown; permanent?: unknown };
    return {
      code: typeof candidate.code === 'string' ? candidate.code : 'UNKNOWN',
      message: typeof candidate.message === 'string' ? candidate.message : String(error),
      permanent: candidate.permanent === true,
    };
  }
  return { code: 'UNKNOWN', message: String(error), permanent: false };
}

/**
 * Failure codes the machines themselves produce or branch on. The runtime's error codes are a superset.
 */
export const FAILURE_CODES = {
  nacked: 'NACKED',
  returned: 'RETURNED',
  confirmTimeout: 'CONFIRM_TIMEOUT',
  channelLost: 'CHANNEL_LOST',
  connectionLost: 'CONNECTION_LOST',
} as const;

/**
 * Whether a failure uses up one of a message's attempts. Losing the connection says nothing about the
 * message: it waits for the next connection instead of burning its retry budget on an outage.
 */
export function failureCountsAsAttempt(failure: Failure): boolean {
  return failure.code !== FAILURE_CODES.connectionLost;
}
