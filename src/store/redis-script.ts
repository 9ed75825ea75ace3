import type { RedisClient } from './redis-connection.js';

type Run = (...keysAndArgs: (string | number)[]) => Promise<unknown>;

/**
 * A Lua script run by EVALSHA: defined on each connection the first time it runs there (ioredis
 * sends EVAL once after a NOSCRIPT, then EVALSHA), so each call is one command, not several.
 * Returns the runner: `(redis, ...keys, ...args)`.
 */
export function redisScript(name: string, numberOfKeys: number, lua: string): (redis: RedisClient, ...keysAndArgs: (string | number)[]) => Promise<unknown> {
  return (redis, ...keysAndArgs) => {
    const commands = redis as unknown as Record<string, Run | undefined>;
    if (typeof commands[name] !== 'function') redis.defineCommand(name, { numberOfKeys, lua });
    return (commands[name] as Run).apply(redis, keysAndArgs);
  };
}
