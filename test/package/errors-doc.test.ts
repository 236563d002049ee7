/** docs/errors.md is what `FERRY_ERROR_CODES` says, and names every code once. */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { ERRORS_DOC_PATH, renderErrorReference } from '../../scripts/error-reference.js';
import { FERRY_ERROR_CODES } from '../../src/error-codes.js';

it('docs/errors.md is generated from FERRY_ERROR_CODES (npm run docs:errors)', async () => {
  const onDisk = await readFile(join(resolve(import.meta.dirname, '../..'), ERRORS_DOC_PATH), 'utf8');
  expect(onDisk).toBe(renderErrorReference());
  for (const code of Object.keys(FERRY_ERROR_CODES)) {
    expect(onDisk.match(new RegExp(`^\\| \`${code}\` \\|`, 'gm'))).toHaveLength(1);
  }
});
