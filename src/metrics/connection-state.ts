/**
 * The number `<prefix>connection_state` reports for each connection phase.
 */
import type { ConnectionPhase } from '../../machines/phases.js';

/**
 * The value of the `ml_producer_connection_state` gauge for each {@link ConnectionPhase}. `3` means
 * connected, so the shipped alert rule (`ml_producer_connection_state != 3`) works
 * unchanged; a blocked connection (a broker resource alarm: nothing is published) is not `3`.
 *
 * | value | phase |
 * | --- | --- |
 * | 0 | `idle` (not started) or `closed` |
 * | 1 | `connecting` (the first attempts) |
 * | 2 | `reconnecting` (waiting out the backoff after a loss or a failed attempt) |
 * | 3 | `connected` |
 * | 4 | `blocked` (connected, publishing paused by the broker) |
 * | 5 | `failed` (attempt budget spent or a permanent error; still retrying at the max delay) |
 * | 6 | `closing` |
 */
export const CONNECTION_STATE_VALUES: Readonly<Record<ConnectionPhase, number>> = {
  idle: 0,
  closed: 0,
  connecting: 1,
  reconnecting: 2,
  connected: 3,
  blocked: 4,
  failed: 5,
  closing: 6,
};
