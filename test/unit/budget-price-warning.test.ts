/**
 * With budgets set, a model that has no price would count as $0 against them: the bot says so at
 * build, for the fallback model as for the primary (the fallback answers in outages and, with
 * AI_BUDGET_POLICY=fallback, past a budget); a model named only at run time, when first counted.
 */
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createBot, loadConfig, type AiClient, type AiResult, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi, type Script } from '../fakes/openai-server.js';
import { testEnv } from '../helpers/web-bot.js';

/** A server (a proxy) answering under a name that has no price. */
const proxied: Script = (call) => ({ body: { id: 'x', object: 'chat.completion', created: 0, model: 'proxy/gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: `echo: ${call.body.model}` }, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 } } });

const bots: Bot[] = [];
let ai: FakeOpenAi | undefined;
afterEach(async () => {
  for (const bot of bots.splice(0)) await bot.close();
  await ai?.close();
  ai = undefined;
});

function warningsOf(env: Record<string, string>): string[] {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(String(JSON.parse(line).msg)) });
  bots.push(createBot({ config: loadConfig({ ...testEnv, OPENAI_API_KEY: 'test-key', AI_BUDGET_USD_PER_DAY: '1', ...env }), logger }));
  return lines.filter((line) => line.includes('has no price'));
}

describe('the start-up warning for a model with no price', () => {
  it('names an unpriced fallback model', () => {
    const lines = warningsOf({ OPENAI_MODEL: 'gpt-4o-mini', OPENAI_FALLBACK_MODEL: 'llama3', AI_BUDGET_POLICY: 'fallback' });
    expect(lines).toEqual([expect.stringContaining('llama3 has no price')]);
  });

  it('names a model of a priced family that has no price of its own', () => {
    expect(warningsOf({ OPENAI_MODEL: 'gpt-4o-realtime-preview' })).toEqual([expect.stringContaining('gpt-4o-realtime-preview has no price')]);
  });

  it('says nothing when both models are priced', () => {
    expect(warningsOf({ OPENAI_MODEL: 'gpt-4.1', OPENAI_FALLBACK_MODEL: 'gpt-4.1-nano' })).toEqual([]);
  });
});

describe('a model with no price named only at run time', () => {
  function warningBot(env: Record<string, string>, ai?: AiClient) {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(String(JSON.parse(line).msg)) });
    const bot = createBot({ config: loadConfig({ ...testEnv, OPENAI_API_KEY: 'test-key', OPENAI_MODEL: 'gpt-4o-mini', AI_BUDGET_USD_PER_DAY: '1', ...env }), logger, worker: false, ...(ai ? { ai } : {}) });
    bots.push(bot);
    return { bot, warnings: () => lines.filter((line) => line.includes('has no price')) };
  }

  it("a custom client's stream naming an unpriced model (its cut streams estimated at $0) is warned about once, pointing at AI_PRICES", async () => {
    const own: AiClient = {
      circuit: 'closed',
      reply: async () => ({ text: 'whole', model: 'my-llm', usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 }, cached: false }) as AiResult,
      stream: () => ({
        chunks: (async function* () {
          yield 'a first piece';
          yield 'and more';
        })(),
        result: new Promise<AiResult>(() => undefined),
        model: () => 'my-llm',
      }),
    };
    const { bot, warnings } = warningBot({}, own);
    expect(warnings()).toEqual([]);
    for (const text of ['one', 'two', 'three']) {
      const stream = bot.ai.stream!({ conversationId: 'c', history: [], text });
      const reader = stream.chunks[Symbol.asyncIterator]();
      await reader.next();
      await reader.return?.(); // the platform refused the stream: it is counted by estimate
    }
    expect(warnings()).toEqual(['AI budgets are set but my-llm has no price: its answers count as $0. Add it to AI_PRICES.']);
  });

  it('a server answering under an unpriced name is warned about once, when its usage is first counted', async () => {
    ai = await startFakeOpenAi(proxied);
    const { bot, warnings } = warningBot({ OPENAI_BASE_URL: ai.url });
    expect(warnings()).toEqual([]);
    for (const text of ['one', 'two']) expect((await bot.ai.reply({ conversationId: 'c', history: [], text })).model).toBe('proxy/gpt-4o-mini');
    expect(warnings()).toEqual(['AI budgets are set but proxy/gpt-4o-mini has no price: its answers count as $0. Add it to AI_PRICES.']);
  });
  it('a budget set in the console (none in the environment) counts too: the unpriced name is warned about once one is set', async () => {
    ai = await startFakeOpenAi(proxied);
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(String(JSON.parse(line).msg)) });
    const token = 'price-warning-admin-token-5c1d';
    const bot = createBot({ config: loadConfig({ ...testEnv, OPENAI_API_KEY: 'test-key', OPENAI_MODEL: 'gpt-4o-mini', OPENAI_BASE_URL: ai.url, ADMIN_TOKEN: token }), logger, worker: false });
    bots.push(bot);
    const warnings = () => lines.filter((line) => line.includes('has no price'));
    const ask = async (text: string) => expect((await bot.ai.reply({ conversationId: 'c', history: [], text })).model).toBe('proxy/gpt-4o-mini');
    await ask('no budget yet');
    expect(warnings()).toEqual([]);
    const server = await bot.listen(0, '127.0.0.1');
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/console/api/budgets/limit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ limit: 'dayUsd', usd: 5 }),
    });
    expect(res.status).toBe(200);
    for (const text of ['one', 'two']) await ask(text);
    expect(warnings()).toEqual(['AI budgets are set but proxy/gpt-4o-mini has no price: its answers count as $0. Add it to AI_PRICES.']);
  });
});
