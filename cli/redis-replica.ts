/**
 * Whether REDIS_URL names a read-only replica, for `parley dlq`: a replica answers PING and reads,
 * but BullMQ's first write is refused (READONLY), its connection reconnects, and the next command
 * fails as "not connected" — which would send the operator looking for a Redis that is up.
 */
import { connectRedis, parseRedisUrl, redisAddress } from '../src/store/redis-connection.js';

/** What `parley check` and `parley dlq` say of a replica named `named` (its address and variable). */
export function replicaLine(named: string): string {
  return `${named} is a read-only replica: point it at the primary (every write there is refused with READONLY)`;
}

/** The line naming the replica, or undefined (a primary, a Cluster, or no answer: the queue's own check says why). */
export async function readOnlyReplica(url: string, variable = 'REDIS_URL'): Promise<string | undefined> {
  // A Cluster's nodes differ; its client follows the primaries by itself.
  if (parseRedisUrl(url).kind === 'cluster') return undefined;
  const redis = connectRedis(url, { lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: 0, connectTimeout: 3000, commandTimeout: 3000, retryStrategy: () => null, sentinelRetryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    // INFO, not ROLE: the README's ACL for parley allows INFO (BullMQ needs it) and refuses ROLE (@dangerous).
    const info = String(await redis.info('replication'));
    if (!/^role:slave\r?$/m.test(info)) return undefined;
    return replicaLine(`${redisAddress(url)} (${variable})`);
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}
