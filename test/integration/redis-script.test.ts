/**
 * redisScript: a Lua script as one EVALSHA per call, on a real Redis, including the first call on
 * a Redis that has not seen it (NOSCRIPT, then EVAL) and a first call inside an auto-pipelined write.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redisScript } from '../../src/store/redis-script.js';
import { commandsSent, uniquePrefix, useRedis } from './redis-helpers.js';

const prefix = uniquePrefix();
const redis = useRedis(prefix);

/** A script no Redis has seen: its text is unique to this run. */
const fresh = () => redisScript(1, `-- ${randomUUID()}\nreturn redis.call('incrby', KEYS[1], ARGV[1])`);

describe('redisScript', () => {
  it('sends a script Redis does not know once with EVAL, and after that only EVALSHA', async () => {
    const connection = await redis.connection();
    const add = fresh();
    expect(await commandsSent(connection, async () => expect(await add(connection, `${prefix}:n`, 2)).toBe(2))).toEqual(['evalsha', 'eval']);
    expect(await commandsSent(connection, async () => expect(await add(connection, `${prefix}:n`, 3)).toBe(5))).toEqual(['evalsha']);
  });

  it("a first run in an auto-pipelined write, next to other commands, fails none of them (ioredis's defineCommand would)", async () => {
    const connection = await redis.connection({ enableAutoPipelining: true });
    const add = fresh();
    const [set, added, got] = await Promise.all([connection.set(`${prefix}:a`, 'x'), add(connection, `${prefix}:b`, 7), connection.get(`${prefix}:a`)]);
    expect([set, added, got]).toEqual(['OK', 7, 'x']);
  });

  it('passes on errors other than NOSCRIPT', async () => {
    const connection = await redis.connection();
    await connection.set(`${prefix}:text`, 'not a number');
    await expect(fresh()(connection, `${prefix}:text`, 1)).rejects.toThrow(/not an integer/);
  });
});
