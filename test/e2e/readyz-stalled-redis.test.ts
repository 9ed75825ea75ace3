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
import { FAIL_FAST_COMMAND_TIMEOUT_MS } from '../../src/store/redis-connection.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

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
    // Redis' own command deadline (1.5 s) ends the wait before the probe's (2 s).
    expect(body.checks.store).toBe(`down: no answer within ${FAIL_FAST_COMMAND_TIMEOUT_MS} ms`);
    expect(body.checks.queue).toBe(`down: no answer within ${FAIL_FAST_COMMAND_TIMEOUT_MS} ms`);
    // The two checks wait side by side: one timeout, not two.
    expect(elapsed).toBeLessThan(2 * PING_TIMEOUT_MS);
    redis.thaw();
    const again = await fetch(`${bot.base}/readyz`);
    expect(again.status).toBe(200);
  }, 30_000);

  it('names a Redis that refuses the connection plainly, and is ready again once it is back', async () => {
    await redis.stop();
    try {
      const body = await until(async () => {
        const res = await fetch(`${bot.base}/readyz`);
        const checks = ((await res.json()) as { checks: Record<string, string> }).checks;
        return res.status === 503 && checks.store?.startsWith('down: not connected') && checks;
      }, 'readyz to say the store is not connected');
      expect(body.store).toBe('down: not connected to Redis (it refused the connection; reconnecting)');
    } finally {
      await redis.start();
    }
    await until(async () => (await fetch(`${bot.base}/readyz`)).status === 200, 'ready again');
  }, 30_000);

  it("answers Slack's webhook 503 within Slack's 3 s while Redis is silent, and answers the redelivery once", async () => {
    // The ack's connection is up (a first mention answered) before Redis freezes.
    await postSlack(bot.url, appMention({ text: 'before the freeze' }));
    await until(() => slack.callsTo('chat.postMessage').find((call) => call.args.text === 'echo: before the freeze'), 'the first reply');
    const event = appMention({ text: 'asked while Redis was frozen' });
    redis.freeze();
    let thawed = false;
    try {
      const started = Date.now();
      const res = await postSlack(bot.url, event);
      const elapsed = Date.now() - started;
      expect(res.status).toBe(503);
      expect(elapsed).toBeLessThan(3000); // Slack's own wait; it redelivers after a 503
      redis.thaw();
      thawed = true;
      // The script may still have run once Redis woke: the redelivery is then a duplicate. Either way, one reply.
      expect((await postSlack(bot.url, event, { retryNum: 1 })).status).toBe(200);
      await until(() => slack.callsTo('chat.postMessage').find((call) => call.args.text === 'echo: asked while Redis was frozen'), 'the reply');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(slack.callsTo('chat.postMessage').filter((call) => call.args.text === 'echo: asked while Redis was frozen')).toHaveLength(1);
    } finally {
      if (!thawed) redis.thaw();
    }
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
