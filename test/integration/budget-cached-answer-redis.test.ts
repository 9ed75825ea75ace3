/**
 * Past a spent budget, an answer the shared cache already holds is given (it costs nothing), by
 * any process: two bots sharing the real Redis at 127.0.0.1:6379 (the response cache and the spend),
 * the fake OpenAI at the HTTP boundary.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { deleteKeys } from '../helpers/redis-keys.js';
import { testEnv } from '../helpers/web-bot.js';

/** One answer (12 + 5 tokens of gpt-4o-mini, $0.0000048) is past this. */
const LESS_THAN_ONE = '0.000004';
const NOTICE = 'The AI budget is spent for today.';

let ai: FakeOpenAi | undefined;
afterEach(async () => {
  await ai?.close();
  ai = undefined;
});

describe('on Redis (two processes sharing the cache and the spend)', () => {
  it("past the budget one process gives the answer another one's call left in the shared cache", async () => {
    const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
    const prefix = `budget-cached-${process.pid}`;
    ai = await startFakeOpenAi();
    const env = { ...testEnv, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: prefix, OPENAI_API_KEY: 'k', OPENAI_BASE_URL: ai.url, OPENAI_MODEL: 'gpt-4o-mini', CACHE_TTL_SECONDS: '3600', AI_BUDGET_USD_PER_DAY: LESS_THAN_ONE, AI_BUDGET_NOTICE: NOTICE };
    const [first, second] = [createBot({ config: loadConfig(env), worker: false }), createBot({ config: loadConfig(env), worker: false })];
    try {
      expect(await redis.ping()).toBe('PONG'); // fails loudly without Redis
      await Promise.all([first.start(), second.start()]);
      const ask = (bot: Bot, text: string) => bot.ai.reply({ conversationId: 'c', history: [], text, tenant: 'T1' });
      expect(await ask(first, 'What is SSO?')).toMatchObject({ text: 'echo: What is SSO?', cached: false });
      await first.close(); // its count of the spend lands in Redis
      expect(await ask(second, 'Something new')).toMatchObject({ text: NOTICE, notice: true });
      expect(await ask(second, 'What is SSO?')).toMatchObject({ text: 'echo: What is SSO?', cached: true });
      expect(ai.calls).toHaveLength(1);
    } finally {
      await first.close();
      await second.close();
      await deleteKeys(redis, `${prefix}:`);
      redis.disconnect();
    }
  });
});
