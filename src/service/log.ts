/**
 * The service's log: one JSON object per line on stdout, `{ time, level, msg, ... }`, which log shippers
 * read as they are. Deliberately tiny; the library itself never logs.
 */

/** Writes one log line. */
export type Log = (
  level: 'info' | 'warn' | 'error',
  msg: string,
  fields?: Readonly<Record<string, unknown>>,
) => void;

/** A {@link Log} writing JSON lines to `write` (stdout by default). */
export function jsonLog(write: (line: string) => void = (line) => process.stdout.write(line)): Log {
  return (level, msg, fields = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  };
}

/** Discards everything: for tests and embedding. */
export const silentLog: Log = () => undefined;
