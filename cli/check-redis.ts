/**
 * `parley check`'s Redis lines: REDIS_URL's server, and REDIS_CACHE_URL's when it is set. Each has
 * a deadline: a Redis that accepts connections and never answers (paused, frozen) is a FAIL line
 * within seconds, not a check that hangs.
 */
import type { Config } from '../src/index.js';
import { CACHE_URL_UNUSED } from '../src/backends.js';
import { aclKeyPatterns, connectionHint, connectRedis, parseRedisUrl, queuePrefix, redisAddress, tryPermissions, type RedisClient } from '../src/store/redis-connection.js';
import { lacksAutoclaim, NO_AUTOCLAIM } from '../src/queue/intake-entry.js';
import { evictionPolicy } from '../src/store/redis-eviction-policy.js';
import { withTimeout } from '../src/timeout.js';
import type { CheckLine as Line } from './check-aws.js';
import { replicaLine } from './redis-replica.js';

/** The whole of one Redis check: connect, the ready check, PING and CONFIG GET. */
export const REDIS_CHECK_DEADLINE_MS = 5000;

/** REDIS_URL's line, then REDIS_CACHE_URL's (a warning when it is set without REDIS_URL: it is not used then). */
export async function checkRedisLines(config: Config, shares: string): Promise<Line[]> {
  const { redisUrl, redisCacheUrl } = config;
  if (!redisUrl) return redisCacheUrl ? [{ ok: 'warn', what: 'Redis cache', detail: CACHE_URL_UNUSED }] : [];
  const prefix = config.redisPrefix;
  const lines = [checkRedis(redisUrl, `reached; ${shares} are shared`, prefix)];
  // Side by side: a dead cache Redis is named within the same few seconds.
  if (redisCacheUrl) lines.push(checkRedis(redisCacheUrl, 'reached; the response cache is shared', prefix, 'REDIS_CACHE_URL', 'Redis cache'));
  return Promise.all(lines);
}

async function checkRedis(url: string, reached: string, prefix: string, variable = 'REDIS_URL', what = 'Redis'): Promise<Line> {
  // As serve connects (a Sentinel or Cluster URL too); commandTimeout: a server that took the
  // connection but never answers fails each command too.
  const redis = connectRedis(url, { lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: 0, connectTimeout: 3000, commandTimeout: 3000, retryStrategy: () => null, sentinelRetryStrategy: () => null });
  // The reason a connection closed (a refused password says WRONGPASS here, not in what connect() throws).
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => (lastError = error));
  const seconds = REDIS_CHECK_DEADLINE_MS / 1000;
  try {
    return await withTimeout(reach(redis, reached, what, prefix, url, parseRedisUrl(url).kind === 'cluster' ? undefined : `${redisAddress(url)} (${variable})`), REDIS_CHECK_DEADLINE_MS, `no answer within ${seconds} s (it takes connections but does not answer)`);
  } catch (error) {
    const refusal = [lastError, error as Error].find((e) => e && /^(WRONGPASS|NOAUTH|NOPERM)\b/.test(e.message));
    // The user and password were taken, but the user may not run a command or touch a key parley needs (an ACL).
    if (refusal?.message.startsWith('NOPERM')) return { ok: false, what, detail: `${redisAddress(url)}: the user in ${variable} lacks a permission parley needs: ${refusal.message} (allow ${aclKeyPatterns(url, prefix)} +@all -@dangerous +info: see "an ACL limited to the bot's keys" in the README)` };
    const refused = refusal?.message.startsWith('NOAUTH') ? `needs a password, and ${variable} gives none` : `refused the user or password in ${variable}`;
    if (refusal) return { ok: false, what, detail: `${redisAddress(url)} ${refused}: ${refusal.message}` };
    // ioredis ends a failed connect with "Connection is closed." whatever closed it: the socket's own error says why (ECONNREFUSED, ENOTFOUND, an untrusted TLS certificate…).
    const cause = lastError && (error as Error).message === 'Connection is closed.' ? lastError : (error as Error);
    return { ok: false, what, detail: `cannot reach ${redisAddress(url)} (${variable}): ${cause.message}${connectionHint(cause, url)}` };
  } finally {
    redis.disconnect();
  }
}

/** `named`: the server as the line names it, when ROLE is worth asking (not a Cluster, whose nodes differ). */
async function reach(redis: RedisClient, reached: string, what: string, prefix: string, url: string, named?: string): Promise<Line> {
  await redis.connect();
  await redis.ping();
  // A replica answers PING but refuses every write (READONLY), and the store, queue and cache all write.
  const role = named ? await redis.call('ROLE').then((r) => (r as unknown[])[0], () => undefined) : undefined;
  if (named && role === 'slave') return { ok: false, what, detail: replicaLine(named) };
  // An ACL user refused what parley does (a NOPERM, thrown to the caller).
  await tryPermissions(redis, prefix, what === 'Redis' ? queuePrefix(url, prefix) : undefined);
  // The intake's pumps need XAUTOCLAIM (Redis 6.2): on the real key, a group no one has (NOGROUP, nothing changed).
  const autoclaim = what === 'Redis' && (await redis.call('XAUTOCLAIM', `${queuePrefix(url, prefix)}:intake`, 'parley-check', 'parley-check', '0', '0-0').catch((e: unknown) => e));
  if (lacksAutoclaim(autoclaim)) return { ok: false, what, detail: `${named ?? redisAddress(url)}: ${NO_AUTOCLAIM}` };
  const policy = await evictionPolicy(redis);
  // The cache may evict (that is what REDIS_CACHE_URL is for); the store and queue must not.
  if (what === 'Redis' && policy && policy !== 'noeviction') return { ok: 'warn', what, detail: `reached, but maxmemory-policy is ${policy}: set noeviction so queued jobs are never evicted` };
  return { ok: true, what, detail: reached };
}
