/**
 * The relay's fold of claimed rows, alone: `foldRows` (src/postgres/outbox-rows.ts) over claims of 500
 * rows as the claim returns them (the routed bench's 1 KiB JSON bodies in base64, a JSON body's
 * properties, no later events), with no PostgreSQL and no broker. The relay runs it once per row it
 * claims, so its time per row is part of the relay's CPU per message in `bench/outbox.ts`, where the
 * machine's noise hides a change of a microsecond or two; here an A/B is readable: run it for two
 * checkouts in alternation.
 *
 *   npx tsx bench/relay-fold.ts [--root <checkout>] [--claims 40] [--rounds 15]
 *
 * Prints one JSON line: the median and the fastest round's ns per row (after one warm-up round).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '.' },
    claims: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '15' },
  },
});
const root = resolve(values.root);
type Rows = typeof import('../src/postgres/outbox-rows.js');
type Workload = typeof import('./workload.js');
const { foldRows }: Rows = await import(`${root}/src/postgres/outbox-rows.ts`);
const { benchMessage }: Workload = await import(`${root}/bench/workload.ts`);

const CLAIM = 500;
/** A JSON body's stored properties: its content type (the fold adds the message id and persistence). */
const PROPERTIES = '{"contentType":"application/json"}';

/** Claim `n` as the claim returns it: every column a string (src/postgres/outbox-rows.ts). */
function claim(n: number): Parameters<Rows['foldRows']>[0] {
  return Array.from({ length: CLAIM }, (_, i) => {
    const message = benchMessage('fold', n * CLAIM + i);
    return {
      seq: String(n * CLAIM + i + 1),
      message_id: message.id,
      exchange: 'tasks',
      routing_key: 'tasks',
      properties: PROPERTIES,
      content: Buffer.from(JSON.stringify(message.body)).toString('base64'),
      accepted_at: String(Date.now()),
      events: '[]',
    };
  });
}

const claims = Array.from({ length: Number(values.claims) }, (_, n) => claim(n));
const perRow: number[] = [];
let folded = 0;
for (let round = 0; round <= Number(values.rounds); round += 1) {
  const started = process.hrtime.bigint();
  for (const rows of claims) folded += foldRows(rows, (error) => console.error(error)).length;
  const ns = Number(process.hrtime.bigint() - started) / (claims.length * CLAIM);
  if (round > 0) perRow.push(ns);
}
if (folded !== claims.length * CLAIM * (Number(values.rounds) + 1)) throw new Error('a row did not fold');
perRow.sort((a, b) => a - b);
const median = perRow[Math.floor(perRow.length / 2)] ?? Number.NaN;
console.log(
  JSON.stringify({ root, nsPerRowMedian: Math.round(median), nsPerRowFastest: Math.round(perRow[0] ?? 0) }),
);
