/**
 * The optional shared API token (`FERRY_API_TOKEN`): a request carries it as `Authorization: Bearer
 * <token>`. Compared in constant time, over SHA-256 digests so that the comparison does not depend on
 * the lengths either.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Whether a request carries the token; built once per token. */
export type TokenCheck = (request: IncomingMessage) => boolean;

/** A check of requests against `token`. */
export function bearerTokenCheck(token: string): TokenCheck {
  const expected = digest(token);
  return (request) => {
    const given = BEARER.exec(request.headers.authorization ?? '')?.[1];
    // Digested and compared even when absent, so that a missing header takes as long as a wrong one.
    const same = timingSafeEqual(digest(given ?? ''), expected);
    return same && given !== undefined;
  };
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
