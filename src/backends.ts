/**
 * Where state lives: in memory (the default) or on Redis when REDIS_URL is set — store, queue,
 * rate limits and the response cache, behind the same interfaces.
 */
import type { RedisClient as Redis } from './store/redis-connection.js';
import type { Logger } from 'pino';
import { MemoryResponseCache, RedisResponseCache, type ResponseCache } from './ai/index.js';
import { MemoryAdaptiveLimit, type AdaptiveLimit, type AdaptiveLimitOptions } from './ai/adaptive-limit.js';
import { RedisAdaptiveLimit } from './ai/redis-adaptive-limit.js';
import type { Config } from './config.js';
import { noticeOfRefused } from './ingest.js';
import type { JobData } from './jobs.js';
import { createMemoryLimiter, createRedisLimiter, type Limiter, type LimitOptions } from './limit/index.js';
import { BullQueue, MemoryQueue, type JobQueue, type RetryOptions } from './queue/index.js';
import { MemoryStore, RedisStore, connectRedis, whenReady, type Store } from './store/index.js';
import { MemoryConversationLog, type ConversationLog } from './conversation-log.js';
import { RedisConversationLog } from './conversation-log-redis.js';
import { MemoryTally, RedisTally, type Tally } from './ops/tally.js';
import { connectionHint, logReplicaRefusalsTo, parseRedisUrl, queuePrefix, redisAddress, storeNamespace } from './store/redis-connection.js';
import { evictionPolicy } from './store/redis-eviction-policy.js';
import { isLoadingError, LOADING_WORDS } from './store/redis-not-connected.js';

export interface Backends {
  /** Built on first use, so a store or queue the developer brings opens no connection of ours. */
  store(): Store;
  /**
   * The worker's store. On Redis its commands wait out a short outage instead of failing at once:
   * ingress must answer 503 fast, but a worker in the middle of a job should finish it.
   */
  workerStore(): Store;
  queue(): JobQueue<JobData>;
  /** The queue's retries (JOB_ATTEMPTS, JOB_BACKOFF_MS): what an in-process answer follows too. */
  retry: RetryOptions;
  cache: ResponseCache;
  /** Shared counters (traffic per minute, AI spend): per process in memory, for all of them on Redis. */
  tally: Tally;
  /** The conversation log (the console's index of exchanges): the newest in memory, or on Redis. */
  conversationLog(): ConversationLog;
  /**
   * The same log for the console to read. On Redis it is on the connection that fails fast: an
   * outage answers the console at once, not after the worker's connection has waited it out.
   */
  consoleConversationLog(): ConversationLog;
  /**
   * On one Redis server (not a Cluster, whose slots would split them): a store key as the queue's
   * scripts see it, so the ack's one step can check it (IngestDeps.keyOnQueueServer).
   */
  keyOnQueueServer?(storeKey: string): string;
  /** Build a limit; undefined when `points` is 0 (no limit). */
  limiter(name: string, points: number, durationSeconds?: number): Limiter | undefined;
  /** The adaptive AI concurrency limit named `name`: per process in memory, shared on Redis. */
  adaptiveLimit(name: string, options: AdaptiveLimitOptions): AdaptiveLimit;
  /**
   * Open the connections (nothing is opened before: creating a bot does no I/O). Resolves once
   * they are up, or after a few seconds when Redis is down, so the first webhooks are not refused
   * while the connections come up; it never rejects.
   */
  connect(): Promise<void>;
  /** Close the connections the backends opened (the queue closes itself). */
  close(): Promise<void>;
}

/** REDIS_CACHE_URL only moves the response cache off REDIS_URL's server: without REDIS_URL it is not used. */
export const CACHE_URL_UNUSED =
  'REDIS_CACHE_URL is set but REDIS_URL is not, so it is not used: everything is in memory, the response cache too. Set REDIS_URL as well, or unset REDIS_CACHE_URL';

/**
 * `queueOnRedis`: false when the bot was given a queue of its own (SQS): REDIS_URL then holds no
 * queued message, and a restart that empties it is not what the persistence warning says.
 */
export function createBackends(config: Config, logger: Logger, { queueOnRedis = true } = {}): Backends {
  const retry = { attempts: config.queue.attempts, backoffMs: config.queue.backoffMs, maxBackoffMs: 5 * 60_000 };
  // Under "<REDIS_PREFIX>:" like every other key, so an ACL user limited to ~<prefix>:* may write it.
  const limitOptions = (name: string, points: number, durationSeconds: number): LimitOptions => ({ points, durationSeconds, keyPrefix: `${config.redisPrefix}:limit-${name}` });
  if (!config.redisUrl) {
    // Not an error: in memory is a working setup, but the operator meant something else.
    if (config.redisCacheUrl) logger.warn(CACHE_URL_UNUSED);
    const shared = new MemoryStore();
    let log: ConversationLog | undefined;
    return {
      retry,
      store: () => shared,
      workerStore: () => shared,
      queue: () => new MemoryQueue<JobData>(retry, { maxJobs: config.queue.maxMessages }),
      cache: new MemoryResponseCache(),
      tally: new MemoryTally(),
      conversationLog: () => (log ??= new MemoryConversationLog()),
      consoleConversationLog: () => (log ??= new MemoryConversationLog()),
      limiter: (name, points, durationSeconds = 60) => (points > 0 ? createMemoryLimiter(limitOptions(name, points, durationSeconds)) : undefined),
      adaptiveLimit: (_name, options) => new MemoryAdaptiveLimit(options),
      close: async () => undefined,
      connect: async () => undefined,
    };
  }
  // A REDIS_URL (or REDIS_CACHE_URL) naming a replica is told in this logger, whichever connection meets it.
  const untell = [config.redisUrl, config.redisCacheUrl].filter((url): url is string => Boolean(url)).map((url) => logReplicaRefusalsTo(logger, url));
  // Store keys start with "parley:" already; another prefix is put in front of them.
  const namespace = storeNamespace(config.redisPrefix);
  let patientRedis: Redis | undefined;
  const patient = () =>
    (patientRedis ??= named(connectRedis(config.redisUrl!, { enableOfflineQueue: true, maxRetriesPerRequest: 30, lazyConnect: true, enableAutoPipelining: true }), 'worker store', logger, config.redisUrl!));
  // Auto-pipelining sends the commands issued in one tick (one ack's, or many concurrent jobs') in
  // one write to the socket.
  // Lazy: opened by connect(), so creating a bot does no I/O.
  const redis = named(connectRedis(config.redisUrl, { enableAutoPipelining: true, lazyConnect: true }), 'store', logger, config.redisUrl);
  const cacheRedis = config.redisCacheUrl ? named(connectRedis(config.redisCacheUrl, { lazyConnect: true }), 'cache', logger, config.redisCacheUrl, 'REDIS_CACHE_URL') : redis;
  const logOptions = { prefix: queuePrefix(config.redisUrl, config.redisPrefix), ttlSeconds: config.history.ttlSeconds };
  let connected: Promise<void> | undefined;
  const connect = () =>
    (connected ??= (async () => {
      // A failed first connect is retried by ioredis in the background; readiness reports it meanwhile.
      for (const client of new Set([redis, cacheRedis, patientRedis])) if (client?.status === 'wait') client.connect().catch(() => undefined);
      void warnIfUnsafe(redis, logger, queueOnRedis);
      await whenReady(redis, 10_000).catch(() => undefined);
    })());
  return {
    retry,
    store: () => new RedisStore(redis, namespace),
    workerStore: () => new RedisStore(patient(), namespace),
    queue: () => new BullQueue<JobData>({ url: config.redisUrl!, prefix: config.redisPrefix, retry, lockDurationMs: config.queueLockMs, noticeOf: noticeOfRefused }),
    ...(parseRedisUrl(config.redisUrl).kind === 'cluster' ? {} : { keyOnQueueServer: (storeKey: string) => namespace + storeKey }),
    cache: new RedisResponseCache(cacheRedis, `${config.redisPrefix}:ai-cache:`),
    // Counted on the patient connection (a worker's spend leaves with its other writes), read fast.
    tally: new RedisTally(redis, namespace, patient),
    // The worker writes the log: the patient connection waits out a short outage.
    conversationLog: () => new RedisConversationLog(patient(), logOptions),
    consoleConversationLog: () => new RedisConversationLog(redis, logOptions),
    limiter: (name, points, durationSeconds = 60) => (points > 0 ? createRedisLimiter(redis, limitOptions(name, points, durationSeconds)) : undefined),
    // Acquires fail fast: with Redis down, the limit falls back to this process's own at once.
    // Releases wait out a short outage on the patient connection: a slot held across it is given back.
    adaptiveLimit: (name, options) => new RedisAdaptiveLimit(redis, options, `${config.redisPrefix}:${name}`, { connection: patient, logger: logger.child({ component: 'ai' }) }),
    // Redis down at start must not keep the bot from starting: readiness reports it meanwhile.
    connect,
    close: async () => {
      for (const undo of untell) undo();
      redis.disconnect();
      patientRedis?.disconnect();
      if (cacheRedis !== redis) cacheRedis.disconnect();
    },
  };
}

/** Log connection trouble once per state change, not once per reconnect attempt. */
function named(redis: Redis, role: string, logger: Logger, url: string, variable = 'REDIS_URL'): Redis {
  let down = false;
  const at = redisAddress(url);
  redis.on('error', (error: Error) => {
    // Reached, but loading its data set (a restart, a replica's sync): refusing until it has, not unreachable.
    const why = isLoadingError(error) ? `${LOADING_WORDS} (${at}, ${variable})` : `Redis unreachable at ${at} (${variable}); retrying in the background${connectionHint(error, url)}`;
    if (!down) logger.warn({ role, at, err: error.message }, why);
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info({ role }, 'Redis reachable again');
    down = false;
  });
  return redis;
}

/**
 * Best effort, once per start, on the queue's own connection (CONFIG is often disabled on managed
 * Redis: the policy is read from INFO then, and persistence is not checked). The queue must never
 * lose keys to eviction, nor to a restart.
 */
async function warnIfUnsafe(redis: Redis, logger: Logger, queueOnRedis: boolean): Promise<void> {
  await new Promise((resolve) => (redis.status === 'ready' ? resolve(undefined) : redis.once('ready', resolve)));
  const get = async (name: string) => ((await redis.config('GET', name)) as string[])[1];
  const policy = await evictionPolicy(redis);
  if (policy && policy !== 'noeviction') {
    logger.warn({ policy }, `Redis maxmemory-policy is "${policy}": it may evict queued jobs and locks. Set it to noeviction (put the response cache on REDIS_CACHE_URL if it should evict).`);
  }
  if (!queueOnRedis) return;
  try {
    const [appendonly, save] = await Promise.all([get('appendonly'), get('save')]);
    if (appendonly === 'no' && save === '') {
      logger.warn({ appendonly, save }, 'Redis keeps nothing on disk (appendonly no, save ""): a restart loses the queued messages, dedupe claims, histories, dead letters, spend, console budget limits and Slack installations. Set appendonly yes (or your provider\'s persistence).');
    }
  } catch {
    // CONFIG refused: nothing to check.
  }
}
