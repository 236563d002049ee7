/**
 * Which confirm channel of the pool a message goes on: a hash of its routing key, so that every
 * message with one routing key takes one channel, and a channel keeps its publishes in order. Pure.
 *
 * @internal
 */

/**
 * The channel, `0 ≤ index < count`, for `routingKey`: FNV-1a over its UTF-16 code units, mixed by
 * murmur3's finaliser, which spreads a handful of queue names and is cheap enough to run on every
 * publish. One channel needs no hash.
 *
 * @internal
 */
export function pickChannel(routingKey: string, count: number): number {
  if (count <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < routingKey.length; i += 1) {
    hash ^= routingKey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // FNV-1a's low bits mix poorly (its last bit is the parity of the characters' last bits): murmur3's
  // finaliser spreads every bit before the modulo.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % count;
}
