/**
 * Process warnings for problems no caller waits on (a journal write of an outcome, a topology
 * re-declaration): reported, never thrown. Node drops a warning's `type` when it is given an `Error`,
 * so the error's message is carried in a string warning that keeps the type listeners filter on, and
 * its machine-readable `code` (a `FerryError`'s or a `JournalError`'s) as the warning's code.
 *
 * @internal
 */

/** The `name` of ferry's process warnings. */
export type FerryWarningType = 'FerryJournalWarning' | 'FerryTopologyWarning';

/** Emits `what: <the error's message>` as a process warning of `type`, with the error's code. */
export function emitFerryWarning(type: FerryWarningType, what: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  process.emitWarning(`${what}: ${message}`, { type, ...(typeof code === 'string' ? { code } : {}) });
}
