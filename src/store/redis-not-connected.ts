/**
 * Why a fail-fast Redis connection is not up, in words /readyz and the log can say: ioredis's own
 * ("Stream isn't writeable…") say nothing of why.
 */
import type { Redis } from 'ioredis';
import type { RedisClient } from './redis-connection.js';

/**
 * How long a fail-fast connection waits for Redis to answer one command. Redis answers in well
 * under a millisecond; a command unanswered this long means a frozen server or a partition that
 * drops packets, where the connection stays open and only a deadline ends the wait. Below Slack's
 * 3 s, so its ack is a 503 (it redelivers) rather than a request it gives up on.
 */
export const FAIL_FAST_COMMAND_TIMEOUT_MS = 1500;

/** What a Redis still loading its data set (after a restart, or a replica's sync) is said to be doing. */
export const LOADING_WORDS = 'Redis is loading its data set into memory and will be ready when it finishes';

/** Redis's refusal while it loads its data set ("LOADING Redis is loading the dataset in memory"). */
export function isLoadingError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('LOADING');
}

/** The last error each connection met while not ready (WRONGPASS, an untrusted certificate…): why it is not connected. */
const lastErrors = new WeakMap<RedisClient, Error>();
/** Connections whose server answered INFO with loading:1 since they connected. */
const loading = new WeakSet<RedisClient>();

/** Note why `redis` is not up, as it goes: for whyNotConnected. */
export function remembered(redis: RedisClient): RedisClient {
  redis.on('error', (error: Error) => void (redis.status === 'ready' || lastErrors.set(redis, error)));
  redis.on('ready', () => (lastErrors.delete(redis), loading.delete(redis)));
  redis.on('close', () => loading.delete(redis));
  // A loading Redis answers ioredis's ready check (INFO) with loading:1, and ioredis waits with no
  // error to remember: ask once per connection, after what ioredis sends first (AUTH, SELECT).
  if (!redis.isCluster) redis.on('connect', () => process.nextTick(() => void noteLoading(redis as Redis)));
  return redis;
}

async function noteLoading(redis: Redis): Promise<void> {
  const info = await redis.info('persistence').catch(() => '');
  if (/^loading:1\r?$/m.test(info) && redis.status === 'connect') loading.add(redis);
}

/**
 * A fail-fast connection's refusal to send while it is not connected ("Stream isn't writeable…")
 * says nothing of why: this names the reason it last met (a refused connection as ioredis's own words, read as such
 * by the readiness check; connected, none met: no answer yet; its first commands timed out: none;
 * Redis loading its data set: that). Redis's own LOADING refusal is said the same way. Else as it is.
 */
export function whyNotConnected(redis: RedisClient, error: unknown): unknown {
  if (isLoadingError(error)) return new Error(LOADING_WORDS);
  if (!(error instanceof Error) || error.message !== NOT_WRITEABLE) return error;
  const cause = lastErrors.get(redis);
  if (loading.has(redis) || isLoadingError(cause)) return new Error(LOADING_WORDS);
  if (!cause) return redis.status === 'connect' ? new Error('not connected to Redis (it took the connection but has not answered yet)') : error;
  if ((cause as NodeJS.ErrnoException).code === 'ECONNREFUSED') return error;
  const unanswered = cause.message === 'Command timed out' ? `it took the connection but did not answer within ${FAIL_FAST_COMMAND_TIMEOUT_MS} ms` : undefined;
  return new Error(`not connected to Redis (${unanswered ?? cause.message}; reconnecting)`);
}

const NOT_WRITEABLE = "Stream isn't writeable and enableOfflineQueue options is false";
const CLUSTER_NOT_READY = "Cluster isn't ready and enableOfflineQueue options is false";

/** ioredis's words for a fail-fast connection that is not up, said plainly; undefined for any other error. */
export function notConnectedWords(message: string): 'not connected to Redis' | 'not connected to the Redis Cluster' | undefined {
  if (message === NOT_WRITEABLE) return 'not connected to Redis';
  if (message === CLUSTER_NOT_READY) return 'not connected to the Redis Cluster';
  return undefined;
}
