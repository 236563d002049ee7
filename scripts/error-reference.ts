/**
 * docs/errors.md, rendered from `FERRY_ERROR_CODES`: one section per severity, one row per code.
 */
import { FERRY_ERROR_CODES, type Severity } from '../src/error-codes.js';

/** Where the reference lives, from the repository root. */
export const ERRORS_DOC_PATH = 'docs/errors.md';

const SEVERITIES: readonly (readonly [Severity, string])[] = [
  ['caller', 'Rejected to the caller: nothing was accepted (or, for `CLOSED`, the producer is closing).'],
  ['retry', 'About one message: it is retried with backoff, then dead-lettered when its attempts are spent.'],
  ['reopen-channel', 'The broker closed the channel: ferry reopens it and republishes what it had pending.'],
  [
    'reconnect',
    'The connection is gone or unusable: ferry reconnects with backoff; messages wait in the buffer.',
  ],
  ['dead-letter', 'That message can never be published as it is: it is dead-lettered at once.'],
  [
    'fatal',
    'Configuration: retrying cannot help, so ferry keeps the messages and retries only at the maximum delay.',
  ],
];

const cell = (text: string): string => text.replaceAll('|', '\\|');

/** The whole document. */
export function renderErrorReference(): string {
  const parts = [
    '# Error codes',
    '',
    '<!-- Generated from FERRY_ERROR_CODES (src/error-codes.ts) by `npm run docs:errors`; do not edit. -->',
    '',
    'Every error ferry rejects with or reports is a `FerryError` with a `code` (the `FerryErrorCode`',
    'union), a `severity` and `permanent` (retrying the same thing cannot help). `status().connection.lastError`',
    'and the `message.parked` / `message.dead-lettered` events carry the same codes.',
    '',
  ];
  const codes = Object.entries(FERRY_ERROR_CODES);
  for (const [severity, summary] of SEVERITIES) {
    parts.push(
      `## \`${severity}\``,
      '',
      summary,
      '',
      '| code | permanent | meaning | what ferry does | what you should do |',
    );
    parts.push('| --- | --- | --- | --- | --- |');
    for (const [code, info] of codes) {
      if (info.severity !== severity) continue;
      const row = [
        `\`${code}\``,
        info.permanent ? 'yes' : 'no',
        info.meaning,
        info.ferryDoes,
        info.youShould,
      ];
      parts.push(`| ${row.map(cell).join(' | ')} |`);
    }
    parts.push('');
  }
  return parts.join('\n');
}
