/**
 * Past a spent budget, an answer the cache already holds is still given: it costs nothing (a
 * repeated FAQ question). Only a question the cache cannot answer gets AI_BUDGET_POLICY's notice or
 * the cheaper model; under the budget the cache is read once per message, inside the AI client.
 * The bot's own AI stack (createBot) over the fake OpenAI, its memory cache and spend (on Redis:
 * test/integration/budget-cached-answer-redis.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { MemoryTally } from '../../src/ops/tally.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { metricValue } from '../helpers/ops.js';
import { testEnv } from '../helpers/web-bot.js';

/** One answer (12 + 5 tokens of gpt-4o-mini, $0.0000048) is past this. */
const LESS_THAN_ONE = '0.000004';
const NOTICE = 'The AI budget is spent for today.';

let bot: Bot | undefined;
let ai: FakeOpenAi | undefined;
afterEach(async () => {
  await bot?.close();
  await ai?.close();
  bot = ai = undefined;
});

async function start(env: Record<string, string>) {
  ai = await startFakeOpenAi();
  const config = loadConfig({ ...testEnv, OPENAI_API_KEY: 'k', OPENAI_BASE_URL: ai.url, OPENAI_MODEL: 'gpt-4o-mini', CACHE_TTL_SECONDS: '3600', AI_BUDGET_USD_PER_DAY: LESS_THAN_ONE, AI_BUDGET_NOTICE: NOTICE, ...env });
  bot = createBot({ config, tally: new MemoryTally(), worker: false });
  const ask = (text: string) => bot!.ai.reply({ conversationId: 'c', history: [], text, tenant: 'T1' });
  const asked = () => ai!.calls.map((call) => `${call.body.model}: ${String(call.body.messages.at(-1)?.content)}`);
  const metric = async (name: string, labels: Record<string, string>) => (await metricValue(bot!.metrics, name, labels)) ?? 0;
  return { bot, ask, asked, metric };
}

async function streamed(bot: Bot, text: string) {
  const stream = bot.ai.stream!({ conversationId: 'c', history: [], text, tenant: 'T1' });
  const notice = await stream.notice;
  let shown = '';
  for await (const chunk of stream.chunks) shown += chunk;
  return { notice, shown, result: await stream.result };
}

describe('past a spent budget', () => {
  it('notice: a question the cache answers gets its cached answer, replied or streamed; any other the notice', async () => {
    const { bot, ask, asked, metric } = await start({});
    expect(await ask('What is SSO?')).toMatchObject({ text: 'echo: What is SSO?', cached: false }); // spends the budget
    expect(await ask('what is sso')).toEqual({ text: 'echo: What is SSO?', model: 'gpt-4o-mini', usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 }, cached: true, cacheKey: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(await streamed(bot, 'What is SSO?')).toMatchObject({ notice: false, shown: 'echo: What is SSO?', result: { text: 'echo: What is SSO?', cached: true } });
    expect(await ask('Something new')).toMatchObject({ text: NOTICE, notice: true });
    expect(await streamed(bot, 'Another new one')).toMatchObject({ notice: true, shown: NOTICE });
    expect(asked()).toEqual(['gpt-4o-mini: What is SSO?']);
    // The notices asked the AI nothing: no cache miss for them; the cached answers count as hits.
    expect(await metric('parley_cache_lookups_total', { result: 'miss' })).toBe(1);
    expect(await metric('parley_cache_lookups_total', { result: 'hit' })).toBe(2);
    // Only the messages the policy answered count as its actions.
    expect(await metric('parley_ai_budget_actions_total', { action: 'notice' })).toBe(2);
  });

  it("fallback: the primary model's cached answer is given; a new question goes to the cheaper model", async () => {
    const { ask, asked } = await start({ AI_BUDGET_POLICY: 'fallback', OPENAI_FALLBACK_MODEL: 'gpt-4.1-nano' });
    expect((await ask('What is SSO?')).model).toBe('gpt-4o-mini');
    expect(await ask('What is SSO?')).toMatchObject({ text: 'echo: What is SSO?', model: 'gpt-4o-mini', cached: true });
    expect(await ask('Something new')).toMatchObject({ text: 'echo: Something new', model: 'gpt-4.1-nano', cached: false });
    expect(asked()).toEqual(['gpt-4o-mini: What is SSO?', 'gpt-4.1-nano: Something new']);
  });

  it('a message is one cache lookup, as under the budget: a miss of the past-budget lookup is not counted on top', async () => {
    const { ask, metric } = await start({ AI_BUDGET_POLICY: 'fallback', OPENAI_FALLBACK_MODEL: 'gpt-4.1-nano' });
    await ask('What is SSO?'); // spends the budget: one miss
    await ask('What is SSO?'); // the primary's cached answer: one hit
    await ask('Something new'); // the cheaper model's own lookup: one miss
    expect(await metric('parley_cache_lookups_total', { result: 'miss' })).toBe(2);
    expect(await metric('parley_cache_lookups_total', { result: 'hit' })).toBe(1);
  });
});

describe('within the budget', () => {
  it('the cache is read once per message (the budget check adds no lookup)', async () => {
    const { ask, metric } = await start({ AI_BUDGET_USD_PER_DAY: '10' });
    await ask('one');
    await ask('two');
    await ask('one');
    expect(await metric('parley_cache_lookups_total', { result: 'miss' })).toBe(2);
    expect(await metric('parley_cache_lookups_total', { result: 'hit' })).toBe(1);
  });
});
