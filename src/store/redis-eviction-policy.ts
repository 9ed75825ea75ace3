/**
 * The server's maxmemory-policy, for the start-up warning and `parley check`. Managed Redis
 * (ElastiCache, Memorystore, Azure Cache) refuses CONFIG, and their default policy (volatile-lru)
 * is the one that evicts: INFO's memory section says it too, and is allowed there.
 */
import type { RedisClient } from './redis-connection.js';

/** The policy, from CONFIG GET or else INFO memory; undefined when the server says neither. */
export async function evictionPolicy(redis: RedisClient): Promise<string | undefined> {
  const configured = await redis.config('GET', 'maxmemory-policy').then(
    (reply) => (reply as string[])[1],
    () => undefined,
  );
  if (configured) return configured;
  const info = await redis.info('memory').catch(() => '');
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
}
