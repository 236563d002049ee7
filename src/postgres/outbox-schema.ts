/**
 * The outbox's tables, in their own PostgreSQL schema (`ferry` by default) so that they never collide
 * with the application's. `OutboxSchema` names every object once; the statements elsewhere use it.
 *
 * - `outbox`: one row per message still owed. `lease_epoch` is NULL until a relay claims the row, then
 *   the epoch of that relay's lease; `events` holds the message's later journal events (failures,
 *   retry timers, parking) so a relay that takes the row over resumes it where it was.
 * - `leases`: one row per relay life. Its `epoch` is the fencing token: every write of a relay names
 *   its epoch and is refused once that lease has expired, and a row whose lease expired is claimable.
 * - `totals`: finished messages, for `ferry journal stats`.
 * - `migrations`: the versions applied.
 */
import { FerryError } from '../errors.js';

/** The schema the outbox lives in unless configured otherwise. */
export const DEFAULT_OUTBOX_SCHEMA = 'ferry';

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/** The qualified names of one outbox's objects. */
export class OutboxSchema {
  /** `"ferry"`. */
  readonly quoted: string;
  readonly outbox: string;
  readonly leases: string;
  readonly totals: string;
  readonly migrations: string;
  /** The channel enqueuing transactions notify (at commit) and relays listen on. */
  readonly channel: string;

  /** @throws FerryError `INVALID_OPTIONS` for a name that is not a plain identifier. */
  constructor(readonly name: string = DEFAULT_OUTBOX_SCHEMA) {
    if (!SCHEMA_NAME.test(name)) {
      throw new FerryError(
        'INVALID_OPTIONS',
        `outbox schema ${JSON.stringify(name)} must be a plain identifier (letters, digits, _; at most 48)`,
      );
    }
    this.quoted = `"${name}"`;
    this.outbox = `${this.quoted}.outbox`;
    this.leases = `${this.quoted}.leases`;
    this.totals = `${this.quoted}.totals`;
    this.migrations = `${this.quoted}.migrations`;
    this.channel = `${name}.outbox`;
  }
}

/** The schema named by `name`, or the default one. */
export function outboxSchema(name: string | undefined): OutboxSchema {
  return new OutboxSchema(name ?? DEFAULT_OUTBOX_SCHEMA);
}
