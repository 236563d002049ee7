/**
 * Why the broker connection failed, in words, for the service's log: an operator reading
 * "Expected ConnectionOpenOk; got ConnectionClose" learns nothing, "the broker refused this user on
 * this virtual host" is the thing to fix.
 */
import type { FailureSummary } from '../producer/status.js';

const WORDS: Readonly<Record<string, string>> = {
  CONNECTION_REFUSED:
    'nothing accepts connections at the broker address (is RabbitMQ running, and on that port?)',
  DNS_FAILURE: 'the broker host name does not resolve',
  CONNECT_TIMEOUT: 'the broker did not answer in time (a firewall, or the wrong host)',
  ACCESS_REFUSED: 'the broker refused the user name or password (RABBITMQ_URL)',
  NOT_ALLOWED:
    'the broker refused access to the virtual host: it does not exist, or this user has no permission on it',
  CONNECTION_FORCED: 'the broker closed the connection (an operator, or the broker shutting down)',
  HEARTBEAT_TIMEOUT: 'the broker stopped answering heartbeats',
  CONNECTION_LOST: 'the connection to the broker dropped',
  TLS_ERROR: 'the TLS handshake with the broker failed (certificates, or TLS on one side only)',
  PROTOCOL_ERROR: 'the broker and ferry disagree on AMQP (is that port AMQP?)',
  TOPOLOGY_MISMATCH: 'a queue or exchange exists with other arguments than ferry declares',
};

/** A failure as a log line shows it: its code, what it means, and the client's own text. */
export function connectionReason(failure: FailureSummary): {
  readonly code: string;
  readonly reason: string;
  readonly detail: string;
} {
  return { code: failure.code, reason: WORDS[failure.code] ?? failure.message, detail: failure.message };
}
