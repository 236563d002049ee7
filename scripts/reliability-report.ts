/**
 * Turns the fault runs' verdicts (`.fault-results/*.json`, written by each scenario of
 * `test/faults`, `test/integration` and the redis scenarios of `test/crash`) into the results table of
 * docs/reliability.md, between its markers. Run after `npx vitest run test/faults test/integration
 * test/crash` (or a soak run):
 *
 * ```
 * npx tsx scripts/reliability-report.ts
 * ```
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = join(root, '.fault-results');
const docPath = join(root, 'docs', 'reliability.md');
const START = '<!-- fault-results:start -->';
const END = '<!-- fault-results:end -->';

/** One row as test/faults/support/scorer.ts writes it. */
interface ResultRow {
  readonly scenario: string;
  readonly file: string;
  readonly accepted: number;
  readonly delivered: number;
  readonly deadLettered: number;
  readonly held: number;
  readonly droppedByBroker?: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly unexpected: number;
  readonly recoveryMs: number | null;
  readonly extra: Readonly<Record<string, unknown>>;
  readonly at: string;
}

function readRows(): ResultRow[] {
  let names: string[];
  try {
    names = readdirSync(resultsDir).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  return names
    .map((name) => JSON.parse(readFileSync(join(resultsDir, name), 'utf8')) as ResultRow)
    .sort((a, b) => a.file.localeCompare(b.file) || a.scenario.localeCompare(b.scenario));
}

function deadLettered(row: ResultRow): string {
  const reasons = row.extra.deadLetterReasons as Record<string, number> | undefined;
  const detail =
    reasons === undefined
      ? ''
      : Object.entries(reasons)
          .map(([reason, n]) => `${reason} ${n}`)
          .join(', ');
  return row.deadLettered === 0 ? '0' : `${row.deadLettered}${detail === '' ? '' : ` (${detail})`}`;
}

function table(rows: readonly ResultRow[]): string {
  if (rows.length === 0) return '_No results yet: run the fault suite, then this script._';
  const lines = [
    '| scenario | test | messages | delivered | dead-lettered | held | dropped by broker | lost | duplicated | recovery | run at |',
    '| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const row of rows) {
    const recovery = row.recoveryMs === null ? '–' : `${(row.recoveryMs / 1000).toFixed(2)} s`;
    lines.push(
      `| ${row.scenario} | \`${row.file}\` | ${row.accepted} | ${row.delivered} | ${deadLettered(row)} | ${row.held} | ${row.droppedByBroker ?? 0} | ` +
        `${row.lost} | ${row.duplicated} | ${recovery} | ${row.at.slice(0, 16).replace('T', ' ')} |`,
    );
  }
  const lost = rows.reduce((sum, row) => sum + row.lost, 0);
  const messages = rows.reduce((sum, row) => sum + row.accepted, 0);
  lines.push('', `${rows.length} scenarios, ${messages} messages accepted, ${lost} lost.`);
  return lines.join('\n');
}

const doc = readFileSync(docPath, 'utf8');
const start = doc.indexOf(START);
const end = doc.indexOf(END);
if (start < 0 || end < start) throw new Error(`${docPath} has no ${START} … ${END} markers`);
const rows = readRows();
writeFileSync(docPath, `${doc.slice(0, start + START.length)}\n${table(rows)}\n${doc.slice(end)}`);
console.log(`docs/reliability.md: ${rows.length} scenarios from .fault-results/`);
