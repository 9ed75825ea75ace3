import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-connection.js';

/**
 * A Lua script run by EVALSHA, one command per call: the first call on a Redis that has not seen it
 * yet gets NOSCRIPT and sends it once with EVAL, which also loads it. Not ioredis's defineCommand:
 * a command defined on a connection while an auto-pipeline is being filled is missing from that
 * pipeline, and ioredis then fails the whole write (and throws where no caller can catch it).
 */
export function redisScript(numberOfKeys: number, lua: string): (redis: RedisClient, ...keysAndArgs: (string | number)[]) => Promise<unknown> {
  const sha = createHash('sha1').update(lua).digest('hex');
  return async (redis, ...keysAndArgs) => {
    try {
      return await redis.evalsha(sha, numberOfKeys, ...keysAndArgs);
    } catch (error) {
      if (!String(error).includes('NOSCRIPT')) throw error;
      return redis.eval(lua, numberOfKeys, ...keysAndArgs);
    }
  };
}
