/**
 * What one claim costs PostgreSQL, alone: the relay's `claimRows` (src/postgres/claim-rows.ts) against
 * a database of its own, with no relay around it and no broker. The CPU is the claiming backend's own
 * (`/proc/<pid>/stat`, so Linux only), read around each claim, so the inserts and deletes between
 * claims are not in it. Four cases:
 *
 * - `empty`: a claim that finds nothing, as a waiting relay sends after each notification and poll;
 * - `one`: a claim that takes the one row committed since the last, a relay's usual claim at a
 *   steady rate of one task per transaction;
 * - `burst`: 50,000 rows (1 KiB bodies) claimed 500 at a time and deleted at once, per row;
 * - `backlog`: the same rows drained as a relay drains them, per row: each claim's rows are deleted
 *   only three claims later (a relay holds its rows until their confirms, and claims the next ones
 *   meanwhile), and each claim starts its walk where the relay's `ClaimCursor` says
 *   (src/postgres/claim-cursor.ts; from the oldest row in a checkout without one).
 *
 * The outbox bench's steady stream puts the enqueuing transactions, notifications and journal writes
 * in the same figure, where the machine's noise hides a claim's share; run this for two checkouts in
 * alternation for an A/B:
 *
 *   npx tsx bench/claim-cost.ts [--root <checkout>] [--claims 2000] [--burst 50000] [--rounds 3]
 *
 * Prints one JSON line: the median of the rounds for each case.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '.' },
    claims: { type: 'string', default: '2000' },
    burst: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '3' },
  },
});
const root = resolve(values.root);
type Claims = typeof import('../src/postgres/claim-rows.js');
type Migrations = typeof import('../src/postgres/migrations.js');
type Schemas = typeof import('../src/postgres/outbox-schema.js');
type Statements = typeof import('../src/postgres/relay-sql.js');
type Cursors = typeof import('../src/postgres/claim-cursor.js');
const { claimRows }: Claims = await import(`${root}/src/postgres/claim-rows.ts`);
const { migrate }: Migrations = await import(`${root}/src/postgres/migrations.ts`);
const { OutboxSchema }: Schemas = await import(`${root}/src/postgres/outbox-schema.ts`);
const { takeLeaseSql }: Statements = await import(`${root}/src/postgres/relay-sql.ts`);
const cursors: Cursors | null = await import(`${root}/src/postgres/claim-cursor.ts`).catch(() => null);

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const BURST = Number(values.burst);
const CHUNK = 500;
/** How many claims a `backlog` claim's rows stay held: with the claim sent ahead, 1,500 of the 2,000. */
const HELD_CLAIMS = 3;
/** `/proc` counts CPU in clock ticks of 10 ms (USER_HZ is 100 on Linux). */
const MICROS_PER_TICK = 10_000;

const schema = new OutboxSchema();
const name = `ferry_claim_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
// One connection: every claim runs on the backend whose CPU is read.
const pool = new pg.Pool({ connectionString: ADMIN_URL.replace(/\/[^/]*$/, `/${name}`), max: 1 });
// `pool.end()` resolves before its connection has closed, so the database's forced drop at the end can
// terminate that connection first; the pool reports that as an error, which would end the process.
pool.on('error', () => undefined);

/** The claiming backend's CPU so far, in µs. */
function backendCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * MICROS_PER_TICK;
}

/** Inserts `count` rows of a 1 KiB body, outside any measurement. */
async function insertRows(count: number): Promise<void> {
  await pool.query(
    `INSERT INTO ${schema.outbox} (message_id, exchange, routing_key, properties, content)
     SELECT md5(random()::text) || g, 'tasks', 'tasks', '{"contentType":"application/json"}',
       convert_to(repeat('x', 1024), 'UTF8') FROM generate_series(1, $1) g`,
    [count],
  );
}

type Kind = 'empty' | 'one' | 'burst' | 'backlog';

/** Deletes `rows` from the outbox, outside any measurement. */
async function deleteRows(rows: readonly { seq: string }[]): Promise<void> {
  if (rows.length === 0) return;
  await pool.query(`DELETE FROM ${schema.outbox} WHERE seq = ANY($1::bigint[])`, [rows.map((r) => r.seq)]);
}

/** Claims as `kind` says, and returns the claiming backend's CPU per claim (or per row of a backlog). */
async function measure(kind: Kind, pid: number, epoch: string): Promise<number> {
  const claims = Number(values.claims);
  const drains = kind === 'burst' || kind === 'backlog';
  const cursor = kind === 'backlog' && cursors !== null ? new cursors.ClaimCursor() : null;
  let after = cursor?.fromOldest() ?? '0';
  const held: { seq: string }[][] = [];
  let cpu = 0;
  let taken = 0;
  // The last case's deleted rows are vacuumed first, as autovacuum would: a claim walks past dead
  // index entries until then, which would make each case's figure depend on the one before it.
  await pool.query(`VACUUM ${schema.outbox}`);
  if (drains) await insertRows(BURST);
  for (let n = 0; drains ? taken < BURST : n < claims; n += 1) {
    if (kind === 'one') await insertRows(1);
    const before = backendCpu(pid);
    const rows = await claimRows(pool, schema, epoch, drains ? CHUNK : 1, after);
    cpu += backendCpu(pid) - before;
    if (kind !== 'empty' && rows.length === 0) throw new Error(`a ${kind} claim took nothing`);
    taken += rows.length;
    if (cursor !== null) after = cursor.after(rows);
    held.push(rows);
    if (kind !== 'backlog' || held.length > HELD_CLAIMS) await deleteRows(held.shift() ?? []);
  }
  for (const rows of held.splice(0)) await deleteRows(rows);
  return drains ? cpu / taken : cpu / claims;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
try {
  await migrate(pool, schema);
  const lease = await pool.query(takeLeaseSql(schema), ['claim-cost', 3_600_000]);
  const epoch = String(lease.rows[0]?.epoch);
  const pid = Number((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
  const results: Record<Kind, number[]> = { empty: [], one: [], burst: [], backlog: [] };
  for (let round = 0; round < Number(values.rounds); round += 1) {
    for (const kind of ['empty', 'one', 'burst', 'backlog'] as const)
      results[kind].push(await measure(kind, pid, epoch));
  }
  console.log(
    JSON.stringify({
      root,
      emptyMicrosPerClaim: Math.round(median(results.empty)),
      oneRowMicrosPerClaim: Math.round(median(results.one)),
      burstMicrosPerRow: Number(median(results.burst).toFixed(1)),
      backlogMicrosPerRow: Number(median(results.backlog).toFixed(1)),
    }),
  );
} finally {
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
