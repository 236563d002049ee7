/**
 * The order in which a failover round tries the broker URLs (`urls`: the nodes of a cluster, or
 * hosts in front of one). Instances spread over the nodes instead of all starting on the first one:
 * the first round starts at a URL drawn from the seed. A round after a node failed, or after the
 * session on it was lost, starts with the URL after that node, so that a stopped or frozen node is
 * tried last, not first (a frozen node costs a whole `connectionTimeoutMs`). A round after a success
 * starts where the last one connected, so a graceful close and a new start stay on the same node.
 *
 * Pure: a rotation in, a rotation out, so that the rules are property-tested without sockets.
 *
 * @internal
 */
import { drawRandom, seedRandom } from '../../machines/random.js';

/** Where the next failover round starts. */
export interface NodeRotation {
  /** How many URLs there are. */
  readonly count: number;
  /** Index of the URL the next round tries first. */
  readonly next: number;
}

/** The rotation before any attempt: the first URL is drawn from `seed` (same seed, same URL). */
export function firstRotation(count: number, seed: number): NodeRotation {
  return { count, next: Math.floor(drawRandom(seedRandom(seed)).value * count) };
}

/** Every URL index once, in the order this round tries them. */
export function roundOrder(rotation: NodeRotation): number[] {
  return Array.from({ length: rotation.count }, (_, i) => (rotation.next + i) % rotation.count);
}

/** After an attempt on `index` connected: the next round starts there again. */
export function afterConnected(rotation: NodeRotation, index: number): NodeRotation {
  return { count: rotation.count, next: index };
}

/**
 * After `index` failed (the attempt failed, or its session was lost rather than closed by its owner):
 * the next round starts with the URL after it, so that node comes last.
 */
export function afterFailed(rotation: NodeRotation, index: number): NodeRotation {
  return { count: rotation.count, next: (index + 1) % rotation.count };
}
