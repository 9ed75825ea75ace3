/**
 * A server (a proxy, a compatible gateway) that says each answer came from a model of a new name
 * adds a bounded number of `model` series to `parley_ai_tokens_total` and `parley_ai_cost_usd_total`
 * (README "Operations"); the bot's own model keeps its name even after the bound is reached, and
 * every token is still counted. The AI faked over HTTP.
 */
import { afterEach, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';
import { MAX_OUTSIDE_VALUES } from '../../src/observe/label-values.js';

const OTHERS = MAX_OUTSIDE_VALUES + 10;
let ai: FakeOpenAi | undefined;
let bot: WebBot | undefined;
afterEach(async () => {
  await bot?.close();
  await ai?.close();
});

const completion = (model: string) => ({
  id: 'chatcmpl-x', object: 'chat.completion', created: 0, model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 },
});

it('answers named by ever new models: at most MAX_OUTSIDE_VALUES of them as they are, then `other`; the configured model keeps its name', async () => {
  ai = await startFakeOpenAi((call, i) => (i < OTHERS ? { body: completion(`proxy-model-${i}`) } : { body: completion(call.body.model) }));
  bot = await startWebBot({ OPENAI_BASE_URL: ai.url, OPENAI_MODEL: 'gpt-4o-mini', RATE_LIMIT_USER_PER_MINUTE: '0', RATE_LIMIT_CONVERSATION_PER_MINUTE: '0' });
  for (let i = 0; i <= OTHERS; i++) {
    expect((await bot.post(`c-${i}`, `question ${i}`)).status).toBeLessThan(300);
    await bot.waitFor(`c-${i}`, (entries) => assistantReplies(entries).length === 1);
  }
  const { values } = await bot.bot.metrics.tokens.get();
  const models = new Set(values.map((value) => value.labels.model));
  expect(models.size).toBe(MAX_OUTSIDE_VALUES + 2);
  expect(models).toContain('gpt-4o-mini');
  expect(models).toContain('other');
  expect(values.filter((v) => v.labels.direction === 'input').reduce((sum, v) => sum + v.value, 0)).toBe((OTHERS + 1) * 4);
}, 60_000);
