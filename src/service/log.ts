/**
 * The service's log: one JSON object per line on stdout, `{ time, level, msg, component, ... }`, which
 * log shippers read as they are. Written with pino; credentials and message bodies are redacted by
 * path, and URLs are logged through `redactUrl` by the callers. The library itself never logs.
 */
import pino from 'pino';
import { traceLogFields } from '../tracing/log-fields.js';

/** Writes one log line. `child`, when present, makes the log of one component. */
export type Log = ((
  level: 'info' | 'warn' | 'error',
  msg: string,
  fields?: Readonly<Record<string, unknown>>,
) => void) & { readonly child?: (component: string) => Log };

/**
 * Fields never written as they are: credentials wherever they appear, and message bodies (a payload
 * is described by its size, never logged).
 */
export const REDACTED_PATHS: readonly string[] = [
  'url',
  '*.url',
  'password',
  '*.password',
  'headers.authorization',
  '*.headers.authorization',
  'body',
  '*.body',
  'content',
  '*.content',
];

/** A component's child is made from the root, so a line names one component, not a chain of them. */
function fromPino(logger: pino.Logger, root: pino.Logger = logger): Log {
  const log = (
    level: 'info' | 'warn' | 'error',
    msg: string,
    fields: Readonly<Record<string, unknown>> = {},
  ) => logger[level](fields, msg);
  return Object.assign(log, { child: (component: string) => fromPino(root.child({ component }), root) });
}

/** A {@link Log} writing JSON lines to `write` (stdout by default). */
export function jsonLog(write: (line: string) => void = (line) => process.stdout.write(line)): Log {
  const logger = pino(
    {
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_PATHS], censor: '[Redacted]' },
      // A line written inside a span (a request's) carries its trace_id and span_id.
      mixin: traceLogFields,
    },
    { write },
  );
  return fromPino(logger);
}

/** The log of one component: a pino child logger, or `component` added to each line of a plain log. */
export function componentLog(log: Log, component: string): Log {
  return log.child?.(component) ?? ((level, msg, fields = {}) => log(level, msg, { component, ...fields }));
}

/** Discards everything: for tests and embedding. */
export const silentLog: Log = () => undefined;
