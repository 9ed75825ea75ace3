/**
 * Prompt tokens the provider read from its prompt cache (`prompt_tokens_details.cached_tokens`:
 * OpenAI caches a long prompt's beginning by itself) are billed at a lower price: the cost the
 * metrics and the budgets count is what the provider bills, reply or stream. Real sockets.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { costOf, defaultPrices, OpenAiClient, type AiUsage } from '../../src/ai/index.js';
import { completion, FakeOpenAI, json, sse } from './fake-openai.js';
import { request, testOptions } from './options.js';
import { loadConfig } from '../../src/config.js';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
});
afterEach(() => server.stop());

// gpt-4o-mini: $0.15 per million input tokens, $0.075 cached, $0.60 output.
const usage = { prompt_tokens: 2_000_000, completion_tokens: 1_000_000, prompt_tokens_details: { cached_tokens: 1_500_000 } };
const billed = 0.5 * 0.15 + 1.5 * 0.075 + 1 * 0.6;

describe('cached prompt tokens', () => {
  it('are priced at the cached-input price, by reply and by stream, in the usage the budgets count', async () => {
    const usages: AiUsage[] = [];
    const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, events: { onUsage: (e) => usages.push(e.usage) } }));
    server.enqueue(json(200, { ...completion('fine'), usage: { ...usage, total_tokens: 3_000_000 } }), sse(['fi', 'ne'], usage));
    const replied = await ai.reply(request('a'));
    const streamed = await ai.stream(request('b')).result;
    for (const result of [replied, streamed]) {
      expect(result.usage.inputTokens).toBe(2_000_000);
      expect(result.usage.costUsd).toBeCloseTo(billed, 9);
    }
    expect(usages.map((u) => u.costUsd)).toEqual([replied.usage.costUsd, streamed.usage.costUsd]);
  });

  it('a cached count larger than the prompt (a server\'s mistake) prices the whole prompt as cached, no less', () => {
    expect(costOf(defaultPrices, 'gpt-4o-mini', 1_000_000, 0, 5_000_000)).toBeCloseTo(0.075, 9);
    expect(costOf(defaultPrices, 'gpt-4o-mini', 1_000_000, 0, 0)).toBeCloseTo(0.15, 9);
  });

  it('AI_PRICES takes a cachedInput price; without one cached tokens cost the input price', async () => {
    const config = loadConfig({ AI_PRICES: JSON.stringify({ 'my-model': { input: 1, cachedInput: 0.25, output: 2 }, other: { input: 1, output: 2 } }) });
    expect(costOf(config.ai.prices!, 'my-model', 1_000_000, 0, 1_000_000)).toBeCloseTo(0.25, 9);
    expect(costOf(config.ai.prices!, 'other', 1_000_000, 0, 1_000_000)).toBeCloseTo(1, 9);
  });
});
