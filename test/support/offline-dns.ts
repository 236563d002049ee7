/**
 * A host-name lookup for tests that need a DNS failure without asking any resolver: names under
 * `.invalid` (RFC 2606: never resolvable) fail with ENOTFOUND as getaddrinfo would report it, and every
 * other name goes to Node's `dns.lookup`. Tests only ever send traffic to this machine.
 */
import { lookup } from 'node:dns';
import type { LookupFunction } from 'node:net';

/** `dns.lookup`, except that `*.invalid` fails at once, locally. */
export const offlineLookup: LookupFunction = (hostname, options, callback) => {
  if (!hostname.endsWith('.invalid')) {
    lookup(hostname, options, callback);
    return;
  }
  const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
    code: 'ENOTFOUND',
    errno: -3008,
    syscall: 'getaddrinfo',
    hostname,
  });
  process.nextTick(() => callback(error, '', 4));
};
