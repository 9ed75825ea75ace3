/**
 * `/readyz` against a Redis that accepts connections but answers nothing (stopped with SIGSTOP: a
 * frozen server, or a partition that drops packets): the probe gets a 503 in bounded time, not a
 * request that hangs until the load balancer's own timeout. And a healthy Redis is not reported
 * down by the first probe after listen(), while its connection is still coming up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import { createBot } from '../../src/index.js';
import { REDIS_URL, uniquePrefix } from '../integration/redis-helpers.js';
import { testEnv } from '../helpers/web-bot.js';
import { PING_TIMEOUT_MS } from '../../src/bot-start.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';

describe('/readyz with Redis stalled', () => {
  let redis: PrivateRedis;
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let bot: SlackBot;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    bot = await startSlackBot(slack, ai, { REDIS_URL: redis.url });
  });
  afterAll(async () => {
    redis.thaw();
    await bot.close();
    await redis.stop();
    await slack.close();
    await ai.close();
  });

  it('answers 503 naming the silent backends, and 200 again once Redis answers', async () => {
    expect((await fetch(`${bot.base}/readyz`)).status).toBe(200);
    redis.freeze();
    const started = Date.now();
    const res = await fetch(`${bot.base}/readyz`, { signal: AbortSignal.timeout(15_000) });
    const elapsed = Date.now() - started;
    const body = (await res.json()) as { checks: Record<string, string> };
    expect(res.status).toBe(503);
    expect(body.checks.store).toBe(`down: no answer within ${PING_TIMEOUT_MS} ms`);
    expect(body.checks.queue).toBe(`down: no answer within ${PING_TIMEOUT_MS} ms`);
    // The two checks wait side by side: one timeout, not two.
    expect(elapsed).toBeLessThan(2 * PING_TIMEOUT_MS);
    redis.thaw();
    const again = await fetch(`${bot.base}/readyz`);
    expect(again.status).toBe(200);
  }, 30_000);
});

describe('/readyz as a fresh bot\'s first request, Redis healthy', () => {
  it('reads the backends once the start under way has connected: 200, not a store "down"', async () => {
    const bot = createBot({ adapters: [webChat()], env: { ...testEnv, REDIS_URL, REDIS_PREFIX: uniquePrefix() } });
    try {
      const res = await bot.fetch(new Request('http://127.0.0.1/readyz'));
      const body = (await res.json()) as { checks: Record<string, string> };
      expect(body.checks).toEqual({ store: 'ok', queue: 'ok' });
      expect(res.status).toBe(200);
    } finally {
      await bot.close();
    }
  }, 20_000);
});
