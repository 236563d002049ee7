/** Writes docs/errors.md from `FERRY_ERROR_CODES` (`npm run docs:errors`). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERRORS_DOC_PATH, renderErrorReference } from './error-reference.js';

writeFileSync(join(fileURLToPath(new URL('..', import.meta.url)), ERRORS_DOC_PATH), renderErrorReference());
