/**
 * A Redis ACL user limited to the bot's keys (`~<REDIS_PREFIX>:*`), as a careful operator sets it
 * up: every key parley writes starts with `<REDIS_PREFIX>:`, so the limits are shared between
 * processes. The rate limits (`<prefix>-limit-…`) and the AI limit (`{<prefix>:ai-limit}…`) lay
 * outside it: every write was refused (NOPERM) and each process silently fell back to a limit of
 * its own. A private redis-server: the test adds an ACL user to it.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackends, type Backends } from '../../src/backends.js';
import { loadConfig } from '../../src/config.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';

const PREFIX = 'aclbot';

describe('an ACL user limited to ~<REDIS_PREFIX>:*', () => {
  let server: PrivateRedis;
  let admin: Redis;
  const processes: Backends[] = [];

  beforeAll(async () => {
    server = await startPrivateRedis(['--appendonly', 'no']);
    admin = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    await admin.call('ACL', 'SETUSER', 'bot', 'on', '>bot-pw', `~${PREFIX}:*`, '&*', '+@all');
    const config = loadConfig({ REDIS_URL: `redis://bot:bot-pw@127.0.0.1:${server.port}`, REDIS_PREFIX: PREFIX });
    // Two processes sharing the Redis.
    for (let i = 0; i < 2; i++) {
      const backends = createBackends(config, pino({ level: 'silent' }));
      await backends.connect();
      processes.push(backends);
    }
  }, 30_000);
  afterAll(async () => {
    for (const backends of processes) await backends.close();
    admin?.disconnect();
    await server?.stop();
  });

  it('shares a rate limit between processes, its keys under the prefix', async () => {
    const [a, b] = processes.map((backends) => backends.limiter('user', 2, 60)!);
    expect(await a!.consume('u1')).toEqual({ allowed: true });
    expect(await a!.consume('u1')).toEqual({ allowed: true });
    // The other process sees the two already taken.
    expect((await b!.consume('u1')).allowed).toBe(false);
  });

  it('shares the AI limit between processes, its keys under the prefix', async () => {
    const [a, b] = processes.map((backends) => backends.adaptiveLimit('ai', { max: 1, leaseMs: 60_000 }));
    const first = await a!.tryAcquire();
    expect('token' in first && !first.token.startsWith('local:')).toBe(true);
    expect('token' in (await b!.tryAcquire())).toBe(false);
  });

  it('is refused nothing', async () => {
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });
});
