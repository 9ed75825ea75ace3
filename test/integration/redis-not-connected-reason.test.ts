/**
 * A Redis that refuses REDIS_URL's password: the readiness checks (the store's and the queue's
 * ping, which /readyz and `parley dlq` read) say why — WRONGPASS — where they said only ioredis's
 * "Stream isn't writeable and enableOfflineQueue options is false", and never the password.
 * A private redis-server with a password of its own. And a server that takes the connection and
 * never answers: said so, where the check said it refused the connection (then "Command timed out").
 * And a Redis still loading its data set: /readyz says so, where it said Redis had not answered yet.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import { createBot } from '../../src/index.js';
import { createBackends, type Backends } from '../../src/backends.js';
import { loadConfig } from '../../src/config.js';
import { RedisStore } from '../../src/store/redis.js';
import { connectRedis } from '../../src/store/redis-connection.js';
import { startLoadingRedis, startLoadingRefuser } from '../helpers/loading-redis.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { testEnv } from '../helpers/web-bot.js';
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

describe('a Redis still loading its data set', () => {
  const LOADING = 'down: Redis is loading its data set into memory and will be ready when it finishes';

  /** A bot on `url`, its warnings kept; `readyz()`: /readyz's status and checks. */
  function botOn(url: string) {
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(String(JSON.parse(line).msg)) });
    const bot = createBot({ adapters: [webChat()], logger, env: { ...testEnv, REDIS_URL: url, REDIS_PREFIX: `h-small-${randomUUID()}` } });
    const readyz = async () => {
      const res = await bot.fetch(new Request('http://127.0.0.1/readyz'));
      return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
    };
    /** /readyz once it says Redis is loading: 503, the store and the queue both. */
    const whileLoading = async () => {
      const loading = await until(async () => {
        const answer = await readyz();
        return answer.checks.store === LOADING && answer;
      }, '/readyz to say Redis is loading', 20_000);
      expect(loading.status).toBe(503);
      expect(loading.checks.queue).toBe(LOADING);
    };
    return { bot, warnings, readyz, whileLoading };
  }

  it('a real one (INFO says loading:1, the rest LOADING): /readyz says it is loading, then 200 once it has', async () => {
    const redis = await startLoadingRedis();
    const { bot, readyz, whileLoading } = botOn(redis.url);
    try {
      await whileLoading();
      await redis.finish();
      await until(async () => (await readyz()).status === 200, 'ready once loaded', 30_000);
    } finally {
      await bot.close();
      await redis.stop();
    }
  }, 60_000);

  it('one refusing every command, INFO too, with LOADING: /readyz and the log say it is loading, not unreachable', async () => {
    const server = await startLoadingRefuser();
    const { bot, warnings, whileLoading } = botOn(server.url);
    try {
      await whileLoading();
      const line = await until(() => warnings.find((w) => w.includes('Redis is loading')), 'the log line');
      expect(line).toMatch(/^Redis is loading its data set into memory and will be ready when it finishes \(127\.0\.0\.1:\d+, REDIS_URL\)$/);
      expect(warnings.some((w) => w.startsWith('Redis unreachable'))).toBe(false);
    } finally {
      await bot.close();
      await server.close();
    }
  }, 60_000);
});
