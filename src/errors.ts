/**
 * ferry's one error class and its codes. The mapping from what amqplib, Node's sockets and TLS throw is
 * beside the adapter, in src/amqp/amqplib-errors.ts.
 *
 * Every code has one severity, which says what happens next (`caller`: rejected to the caller;
 * `retry`: the message is retried; `reopen-channel`; `reconnect`; `dead-letter`; `fatal`: a configuration
 * error, retried slowly). docs/errors.md is the reference, generated from {@link FERRY_ERROR_CODES}.
 *
 * `permanent` is what machines read (see machines/failure.ts): retrying the same thing cannot help.
 */
import { FERRY_ERROR_CODES, type FerryErrorCode, type Severity } from './error-codes.js';

export {
  type ErrorCodeInfo,
  FERRY_ERROR_CODES,
  type FerryErrorCode,
  ferryErrorCode,
  type Severity,
} from './error-codes.js';

/** Plain data attached to an error: safe to journal, never credentials or message bodies. */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/** Options of the {@link FerryError} constructor. */
export interface FerryErrorOptions {
  readonly cause?: unknown;
  readonly details?: ErrorDetails;
}

/**
 * The error ferry rejects with and reports in events. It satisfies machines/failure.ts's `Failure`
 * (`code`, `message`, `permanent`), so machines can read it without importing the runtime.
 */
export class FerryError extends Error {
  override readonly name = 'FerryError';
  readonly code: FerryErrorCode;
  readonly severity: Severity;
  readonly permanent: boolean;
  readonly details?: ErrorDetails;

  constructor(code: FerryErrorCode, message: string, options: FerryErrorOptions = {}) {
    super(redactUrl(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.severity = FERRY_ERROR_CODES[code].severity;
    this.permanent = FERRY_ERROR_CODES[code].permanent;
    if (options.details !== undefined) this.details = options.details;
  }

  /**
   * A FerryError as it is; anything else as a `fallback` (default `UNKNOWN`) error carrying it as its
   * cause. What amqplib, Node's sockets and TLS throw is classified by the adapter
   * (src/amqp/amqplib-errors.ts) before it reaches the runtime.
   */
  static from(error: unknown, fallback: FerryErrorCode = 'UNKNOWN'): FerryError {
    if (error instanceof FerryError) return error;
    if (typeof error !== 'object' || error === null) return new FerryError(fallback, String(error));
    const message: unknown = Reflect.get(error, 'message');
    return new FerryError(fallback, typeof message === 'string' ? message : String(error), { cause: error });
  }

  /** Plain data for logs and journals: `JSON.stringify` of an Error drops its message otherwise. */
  toJSON(): Readonly<Record<string, unknown>> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      severity: this.severity,
      permanent: this.permanent,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/** `scheme://user:secret@` → `scheme://user:***@`, greedy up to the last `@` so a raw `@` in a password cannot leak. */
const CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):\S*@/gi;

/**
 * A URL without its password (`amqp://user:pass@host` → `amqp://user:***@host`), for logs and status.
 * Works on any text: every URL in it is redacted.
 */
export function redactUrl(url: string): string {
  return url.replace(CREDENTIALS, '$1:***@');
}
