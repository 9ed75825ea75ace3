/**
 * A Redis that refuses REDIS_URL's password: the readiness checks (the store's and the queue's
 * ping, which /readyz and `parley dlq` read) say why — WRONGPASS — where they said only ioredis's
 * "Stream isn't writeable and enableOfflineQueue options is false", and never the password.
 * A private redis-server with a password of its own. And a server that takes the connection and
 * never answers: said so, where the check said it refused the connection (then "Command timed out").
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackends, type Backends } from '../../src/backends.js';
import { loadConfig } from '../../src/config.js';
import { RedisStore } from '../../src/store/redis.js';
import { connectRedis } from '../../src/store/redis-connection.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

describe('a Redis that refuses the password', () => {
  let server: PrivateRedis;
  let backends: Backends;

  beforeAll(async () => {
    server = await startPrivateRedis(['--appendonly', 'no', '--requirepass', 'the-right-one']);
    backends = createBackends(loadConfig({ REDIS_URL: `redis://:SECRETwrong@127.0.0.1:${server.port}`, REDIS_PREFIX: 'refused' }), pino({ level: 'silent' }));
    await backends.connect();
  }, 30_000);
  afterAll(async () => {
    await backends?.close();
    await server?.stop();
  });

  const reason = (ping: () => Promise<void>) => ping().then(() => 'ok', (error: Error) => error.message);

  it("the store's readiness check names WRONGPASS, not the password", async () => {
    const store = backends.store();
    const said = await until(async () => {
      const message = await reason(() => store.ping());
      return message.includes('WRONGPASS') && message;
    }, 'the store check to say why');
    expect(said).toBe('not connected to Redis (WRONGPASS invalid username-password pair or user is disabled.; reconnecting)');
  });

  it("the queue's readiness check names WRONGPASS, not the password", async () => {
    const queue = backends.queue();
    try {
      const said = await until(async () => {
        const message = await reason(() => queue.ping());
        return message.includes('not connected') && message;
      }, 'the queue check to say why');
      expect(said).toContain('WRONGPASS');
      expect(said).not.toContain('SECRET');
    } finally {
      await queue.close(0);
    }
  });
});

describe('a server that takes the connection and never answers', () => {
  it('the readiness check says it has not answered, not that it refused the connection', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket.on('data', () => undefined).on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const redis = connectRedis(`redis://127.0.0.1:${(silent.address() as AddressInfo).port}`);
    redis.on('error', () => undefined);
    try {
      await until(() => redis.status === 'connect', 'the connection taken, its ready check unanswered');
      const store = new RedisStore(redis);
      const said = await store.ping().then(() => 'ok', (error: Error) => error.message);
      expect(said).toBe('not connected to Redis (it took the connection but has not answered yet)');
      // Once its first commands time out (ioredis's "Command timed out"), it never answered: said so, plainly.
      const later = await until(async () => {
        const message = await store.ping().then(() => 'ok', (error: Error) => error.message);
        return message !== said && message;
      }, 'its first commands to time out');
      expect(later).toBe('not connected to Redis (it took the connection but did not answer within 1500 ms; reconnecting)');
    } finally {
      redis.disconnect();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
