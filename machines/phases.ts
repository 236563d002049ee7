/**
 * The connection's and the breaker's state in one word each: what status pages, metrics and
 * `events$` show. In a module of their own, with no XState import, so that a library user's typings
 * can name them without type-checking XState's declarations.
 */

/** The connection's state in one word, as status pages and metrics show it. */
export type ConnectionPhase =
  | 'idle'
  | 'connecting'
  | 'connected'
  | 'blocked'
  | 'reconnecting'
  | 'failed'
  | 'closing'
  | 'closed';

/** The breaker's state in one word. */
export type BreakerPhase = 'closed' | 'open' | 'halfOpen';
