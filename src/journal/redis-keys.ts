/**
 * The Redis layout of a shared journal, and the scripts that change ownership atomically.
 *
 * - `<prefix>:events` — one stream for all instances: `m` message id, `t` type, `a` time, `d` JSON data,
 *   `c` body (accepted only). A finished message's entries are deleted (`XDEL`): that is compaction.
 * - `<prefix>:owned:<instance>` — the ids of the unfinished messages an instance owns.
 * - `<prefix>:lease:<instance>` — its lease: a token with a TTL it renews; when it lapses, another
 *   instance claims the owned set, and leaves a `claimed-by:` tombstone so a paused owner learns it.
 * - `<prefix>:instances` — instances that may own messages.
 * - `<prefix>:totals` — finished messages by outcome; `<prefix>:schema` — the layout's version.
 *
 * @internal
 */

/** Key names under one prefix. */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  get events(): string {
    return `${this.prefix}:events`;
  }

  get instances(): string {
    return `${this.prefix}:instances`;
  }

  get totals(): string {
    return `${this.prefix}:totals`;
  }

  get schema(): string {
    return `${this.prefix}:schema`;
  }

  owned(instance: string): string {
    return `${this.prefix}:owned:${instance}`;
  }

  lease(instance: string): string {
    return `${this.prefix}:lease:${instance}`;
  }
}

/**
 * Renews a lease if this instance still holds it. KEYS: lease. ARGV: token, lease ms.
 * Returns 1 when renewed, 0 when it lapsed or was claimed.
 */
export const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/**
 * Claims a dead instance's messages if its lease lapsed. KEYS: its lease, its owned set, the claimer's
 * owned set, the instance registry. ARGV: its name, tombstone value, tombstone ms.
 * Returns the claimed ids, or nil when its lease is still held.
 */
export const CLAIM_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local ids = redis.call('SMEMBERS', KEYS[2])
if #ids > 0 then redis.call('SUNIONSTORE', KEYS[3], KEYS[3], KEYS[2]) end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[4], ARGV[1])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return ids`;
