/**
 * Writes `docs/machines.md` from the machines exported by `machines/index.ts` (`npm run docs:machines`).
 * With `--check` it writes nothing and exits 1 if the file on disk is not what it would write.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as machines from '../machines/index.js';
import { machineSources } from '../src/diagrams/machine-sources.js';
import { MACHINES_DOC_COMMAND, MACHINES_DOC_PATH, renderMachinesDoc } from '../src/diagrams/machines-doc.js';

const rootDir = fileURLToPath(new URL('..', import.meta.url));
const target = join(rootDir, MACHINES_DOC_PATH);
const doc = renderMachinesDoc(machineSources(machines, { rootDir, machinesDir: join(rootDir, 'machines') }));

if (process.argv.includes('--check')) {
  let current: string | null = null;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // A missing document is as stale as an outdated one.
  }
  if (current !== doc) {
    console.error(`${MACHINES_DOC_PATH} is stale: run \`${MACHINES_DOC_COMMAND}\``);
    process.exit(1);
  }
  console.log(`${MACHINES_DOC_PATH} is up to date`);
} else {
  writeFileSync(target, doc);
  console.log(`wrote ${MACHINES_DOC_PATH}`);
}
