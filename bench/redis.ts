/**
 * The bench's share of the Redis on 127.0.0.1:6379, which other work uses too: every key this run
 * makes starts with one run prefix (`bench-<random>`), and at the end — or on an error, or on
 * Ctrl-C — exactly those keys are deleted with SCAN + DEL. Never FLUSHALL.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { deleteKeys } from '../test/helpers/redis-keys.js';
import { onInterrupt } from './children.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

export interface BenchRedis {
  url: string;
  /** A REDIS_PREFIX for one part of the bench: `<run prefix>-<part>`, so parts never share a queue. */
  prefix(part: string): string;
  /** The Redis server's process id when it runs on this machine (its CPU time is then measurable). */
  serverPid?: number;
  /** Delete every key of this run; returns how many. */
  cleanup(): Promise<number>;
}

/** Connect (failing at once with a clear message when Redis is not there) and pick this run's prefix. */
export async function openBenchRedis(): Promise<BenchRedis> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new Error(`Redis is not reachable at ${REDIS_URL} (${error instanceof Error ? error.message : String(error)}): start redis-server for the Redis figures`);
  }
  const run = `bench-${randomUUID().slice(0, 8)}`;
  // One deletion, however many ask for it (the normal end and a Ctrl-C may both): each waits for it.
  let deletion: Promise<number> | undefined;
  const cleanup = () =>
    (deletion ??= (async () => {
      unregister();
      try {
        return await deleteKeys(redis, run);
      } finally {
        redis.disconnect();
      }
    })());
  const unregister = onInterrupt(async () => void (await cleanup()));
  return { url: REDIS_URL, prefix: (part) => `${run}-${part}`, serverPid: await localServerPid(redis), cleanup };
}

/** Redis's own pid from INFO, if that process is visible here and really is a redis-server. */
async function localServerPid(redis: Redis): Promise<number | undefined> {
  const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('redis') ? pid : undefined;
  } catch {
    return undefined;
  }
}

