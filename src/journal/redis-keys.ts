/**
 * The Redis layout of a shared journal, and the scripts that change it atomically.
 *
 * - `<prefix>:events` — one stream for all instances: `m` message id, `t` type, `a` time, `d` JSON data,
 *   `c` body (accepted only). A finished message's entries are deleted (`XDEL`): that is compaction.
 * - `<prefix>:owned:<instance>` — the ids of the unfinished messages an instance owns.
 * - `<prefix>:lease:<instance>` — its lease: a token (the ownership's epoch) with a TTL it renews. Every
 *   write of the instance checks the token in the same script that writes, so a write under a lapsed or
 *   claimed lease changes nothing. When the lease lapses, another instance claims the owned set and
 *   leaves a `claimed-by:` tombstone.
 * - `<prefix>:instances` — instances that may own messages.
 * - `<prefix>:unreadable` — ids whose stream entries do not decode: taken out of every owned set so
 *   that claims go on, and kept with their entries for an operator (`ferry journal export`).
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

  get unreadable(): string {
    return `${this.prefix}:unreadable`;
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
 * Takes a name's lease unless someone holds it (or its tombstone says it was claimed), and registers
 * the name in the same step, so that no owned set exists without its instance being claimable.
 * KEYS: lease, instances. ARGV: token, lease ms, name. Returns 1 when taken.
 */
export const JOIN_SCRIPT = `
if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 0 end
redis.call('SADD', KEYS[2], ARGV[3])
return 1`;

/**
 * Writes one compacted batch if the writer's lease still carries its token; otherwise nothing.
 * KEYS: lease, owned, events, totals. ARGV: token, then the ops in order:
 * `i <id> <type> <at> <data> 0` or `i <id> <type> <at> <data> 1 <body>` appends an event (an
 * `accepted` one also adds the id to the owned set); `d <id> <outcome> <n> <entry ids…>` finishes a
 * message: its entries deleted, its id out of the owned set, its outcome counted.
 * Returns the new entry ids in order, or nil when the token is stale.
 */
export const WRITE_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
local added = {}
local totals = {}
local i = 2
while i <= #ARGV do
  local id = ARGV[i + 1]
  if ARGV[i] == 'i' then
    local kind = ARGV[i + 2]
    local entry
    if ARGV[i + 5] == '1' then
      entry = redis.call('XADD', KEYS[3], '*', 'm', id, 't', kind, 'a', ARGV[i + 3], 'd', ARGV[i + 4], 'c', ARGV[i + 6])
      i = i + 7
    else
      entry = redis.call('XADD', KEYS[3], '*', 'm', id, 't', kind, 'a', ARGV[i + 3], 'd', ARGV[i + 4])
      i = i + 6
    end
    if kind == 'accepted' then redis.call('SADD', KEYS[2], id) end
    added[#added + 1] = entry
  else
    local outcome = ARGV[i + 2]
    local n = tonumber(ARGV[i + 3])
    if n > 0 then redis.call('XDEL', KEYS[3], unpack(ARGV, i + 4, i + 3 + n)) end
    redis.call('SREM', KEYS[2], id)
    totals[outcome] = (totals[outcome] or 0) + 1
    i = i + 4 + n
  end
end
for outcome, count in pairs(totals) do redis.call('HINCRBY', KEYS[4], outcome, count) end
return added`;

/**
 * Moves what a claimer read of a lapsed instance's owned set, and only that: the ids it folded go to
 * its own set, the unreadable ones to the unreadable set, the ones with no entries left (finished by
 * another owner) are dropped. Once the set is empty, the instance is deregistered and tombstoned.
 * KEYS: claimer lease, claimer owned, lapsed lease, lapsed owned, instances, unreadable.
 * ARGV: claimer token, lapsed name, tombstone, tombstone ms, n, n ids to take, m, m unreadable ids,
 * then the ids to drop. Returns `fenced` (the claimer's own lease is stale), `held` (the lapsed
 * instance holds its lease again), or `ok` followed by the ids moved to the claimer.
 */
export const CLAIM_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'fenced'} end
if redis.call('EXISTS', KEYS[3]) == 1 then return {'held'} end
local moved = {'ok'}
local n = tonumber(ARGV[5])
for j = 6, 5 + n do
  if redis.call('SMOVE', KEYS[4], KEYS[2], ARGV[j]) == 1 then moved[#moved + 1] = ARGV[j] end
end
local at = 6 + n
local m = tonumber(ARGV[at])
for j = at + 1, at + m do redis.call('SMOVE', KEYS[4], KEYS[6], ARGV[j]) end
for j = at + m + 1, #ARGV do redis.call('SREM', KEYS[4], ARGV[j]) end
if redis.call('SCARD', KEYS[4]) == 0 then
  redis.call('SREM', KEYS[5], ARGV[2])
  redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4])
end
return moved`;

/**
 * Deregisters an instance that owns nothing in the store (not only in its memory), if it still holds
 * its lease. KEYS: lease, owned, instances. ARGV: token, name. Returns 1 when it left.
 */
export const LEAVE_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('SCARD', KEYS[2]) > 0 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[2])
return 1`;
