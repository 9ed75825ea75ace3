/**
 * A stream its reader stopped (the platform refused it) is counted by estimate only when the call
 * was really cut: one that had already finished (its usage billed and counted) or came from the
 * cache ($0) is not counted again. The bot's own AI stack (createBot) over the fake OpenAI.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBot, loadConfig, type AiClient, type AiResult, type Bot } from '../../src/index.js';
import { estimateTokens } from '../../src/ai/history.js';
import { Spend } from '../../src/ops/spend.js';
import { MemoryTally } from '../../src/ops/tally.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { metricValue } from '../helpers/ops.js';
import { testEnv } from '../helpers/web-bot.js';

/** gpt-4o-mini, 12 prompt + 5 completion tokens (the fake's usage): $0.0000048 an answer. */
const ONE_ANSWER = 0.0000048;
const LONG = 'a long answer, streamed in many pieces of six characters each';

let bot: Bot | undefined;
let ai: FakeOpenAi | undefined;
afterEach(async () => {
  await bot?.close();
  await ai?.close();
  bot = ai = undefined;
});

async function start() {
  ai = await startFakeOpenAi(() => ({ text: LONG }));
  const tally = new MemoryTally();
  bot = createBot({ config: loadConfig({ ...testEnv, OPENAI_API_KEY: 'k', OPENAI_BASE_URL: ai.url, OPENAI_MODEL: 'gpt-4o-mini' }), tally, worker: false });
  const spent = async () => (await new Spend(tally, {}).summary()).today.totalUsd;
  const billed = async () => (await metricValue(bot!.metrics, 'parley_ai_cost_usd_total', { model: 'gpt-4o-mini' })) ?? 0;
  return { bot, spent, billed };
}

/** Read the first chunk, run `meanwhile`, then stop reading (as a platform refusing the stream makes the reader do). */
async function readFirstThenStop(bot: Bot, text: string, meanwhile: () => Promise<void>) {
  const stream = bot.ai.stream!({ conversationId: 'c', history: [], text, tenant: 'T1' });
  const reader = stream.chunks[Symbol.asyncIterator]();
  const first = await reader.next();
  await meanwhile();
  await reader.return?.();
  await stream.result.catch(() => undefined);
  return first.value as string;
}

describe('a stream its reader stopped', () => {
  it('that had already finished counts what was billed, no estimate on top', async () => {
    const { bot, spent, billed } = await start();
    // The model finished (its usage reported) while the reader was still on the first chunk.
    await readFirstThenStop(bot, 'q1', () => expect.poll(billed, { timeout: 5000 }).toBeCloseTo(ONE_ANSWER, 12));
    await expect.poll(spent).toBeGreaterThan(0);
    expect(await spent()).toBeCloseTo(ONE_ANSWER, 12);
  });

  it('that came from the cache costs nothing', async () => {
    const { bot, spent, billed } = await start();
    const whole = bot.ai.stream!({ conversationId: 'c', history: [], text: 'q2', tenant: 'T1' });
    for await (const chunk of whole.chunks) void chunk;
    await whole.result;
    await expect.poll(spent).toBeCloseTo(ONE_ANSWER, 12);
    // The same question again: the cached answer comes as one chunk, and the reader stops after it.
    expect(await readFirstThenStop(bot, 'q2', async () => undefined)).toBe(LONG);
    expect(ai!.calls).toHaveLength(1);
    await bot.close(); // lets any count under way land
    expect(await billed()).toBeCloseTo(ONE_ANSWER, 12);
    expect(await spent()).toBeCloseTo(ONE_ANSWER, 12);
  });

  it('that was cut while the model was still writing is counted by estimate: in the cost metric and the spend alike, once', async () => {
    const { bot, spent, billed } = await start();
    ai!.script(() => ({ text: LONG, breakAfterChars: 12 }));
    const stream = bot.ai.stream!({ conversationId: 'c', history: [], text: 'q3', tenant: 'T1' });
    await expect((async () => {
      for await (const chunk of stream.chunks) void chunk;
    })()).rejects.toThrow();
    await bot.close(); // lets any count under way land
    expect(await billed()).toBeGreaterThan(0);
    expect(await spent()).toBeCloseTo(await billed(), 12);
  });
});

describe('a stream a proxy closed mid-answer (no finish_reason, no usage, no [DONE])', () => {
  it('is counted by estimate (the prompt, the text received) in the tokens, the cost and the spend', async () => {
    const piece = (content: string) => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content }, finish_reason: null }] });
    ai = await startFakeOpenAi(() => ({ events: [piece('Half an '), piece('answer')] }));
    const tally = new MemoryTally();
    bot = createBot({ config: loadConfig({ ...testEnv, OPENAI_API_KEY: 'k', OPENAI_BASE_URL: ai.url, OPENAI_MODEL: 'gpt-4o-mini', AI_ATTEMPTS: '1' }), tally, worker: false });
    const stream = bot.ai.stream!({ conversationId: 'c', history: [], text: 'q7', tenant: 'T1' });
    await expect((async () => {
      for await (const chunk of stream.chunks) void chunk;
    })()).rejects.toMatchObject({ kind: 'connection' });
    await bot.close(); // lets any count under way land
    const tokens = (direction: string) => metricValue(bot!.metrics, 'parley_ai_tokens_total', { model: 'gpt-4o-mini', direction });
    expect(await tokens('input')).toBeGreaterThan(0);
    expect(await tokens('output')).toBe(estimateTokens('Half an answer'));
    const cost = await metricValue(bot.metrics, 'parley_ai_cost_usd_total', { model: 'gpt-4o-mini' });
    expect(cost).toBeGreaterThan(0);
    const spend = await new Spend(tally, {}).summary();
    expect(spend.today.totalUsd).toBeCloseTo(cost!, 12);
    expect(spend.today.byTenant['T1']).toBeCloseTo(cost!, 12);
  });
});

describe('a stream whose answer was only blank text', () => {
  it('counts what was billed for it (the empty answer), no estimate on top', async () => {
    // Blank text is passed on as it comes, and the call then fails as an empty answer, its usage counted.
    ai = await startFakeOpenAi(() => ({ text: ' \n' }));
    const tally = new MemoryTally();
    bot = createBot({ config: loadConfig({ ...testEnv, OPENAI_API_KEY: 'k', OPENAI_BASE_URL: ai.url, OPENAI_MODEL: 'gpt-4o-mini', AI_ATTEMPTS: '1' }), tally, worker: false });
    const stream = bot.ai.stream!({ conversationId: 'c', history: [], text: 'q5', tenant: 'T1' });
    await expect((async () => {
      for await (const chunk of stream.chunks) void chunk;
    })()).rejects.toThrow(/no text/);
    expect(ai.calls).toHaveLength(1);
    await bot.close(); // lets any count under way land
    expect(await metricValue(bot.metrics, 'parley_ai_cost_usd_total', { model: 'gpt-4o-mini' })).toBeCloseTo(ONE_ANSWER, 12);
    expect((await new Spend(tally, {}).summary()).today.totalUsd).toBeCloseTo(ONE_ANSWER, 12);
  });
});

describe('a stream whose answer the content filter withheld after only blank text', () => {
  it('counts what was billed for it, no estimate on top', async () => {
    ai = await startFakeOpenAi(() => ({ text: ' \n', finishReason: 'content_filter' }));
    const tally = new MemoryTally();
    bot = createBot({ config: loadConfig({ ...testEnv, OPENAI_API_KEY: 'k', OPENAI_BASE_URL: ai.url, OPENAI_MODEL: 'gpt-4o-mini' }), tally, worker: false });
    const stream = bot.ai.stream!({ conversationId: 'c', history: [], text: 'q6', tenant: 'T1' });
    await expect((async () => {
      for await (const chunk of stream.chunks) void chunk;
    })()).rejects.toMatchObject({ kind: 'content_filtered' });
    expect(ai.calls).toHaveLength(1);
    await bot.close(); // lets any count under way land
    expect(await metricValue(bot.metrics, 'parley_ai_cost_usd_total', { model: 'gpt-4o-mini' })).toBeCloseTo(ONE_ANSWER, 12);
    expect((await new Spend(tally, {}).summary()).today.totalUsd).toBeCloseTo(ONE_ANSWER, 12);
  });
});

describe('a stream the outage fallback answered and that was cut', () => {
  it("is estimated at the fallback model's price, under its name", async () => {
    // The primary fails (and bills nothing); the fallback answers, and its streams break.
    ai = await startFakeOpenAi((call) => (call.body.model === 'gpt-4o' ? { status: 500 } : call.body.stream ? { text: LONG, breakAfterChars: 12 } : {}));
    const tally = new MemoryTally();
    const env = { ...testEnv, OPENAI_API_KEY: 'k', OPENAI_BASE_URL: ai.url, OPENAI_MODEL: 'gpt-4o', OPENAI_FALLBACK_MODEL: 'gpt-4o-mini', AI_ATTEMPTS: '1', AI_BREAKER_THRESHOLD: '1' };
    bot = createBot({ config: loadConfig(env), tally, worker: false });
    // The primary fails once: its circuit opens, and the fallback answers (ONE_ANSWER) from then on.
    expect((await bot.ai.reply({ conversationId: 'c', history: [], text: 'down?' })).model).toBe('gpt-4o-mini');
    expect(bot.ai.circuit).toBe('open');
    const stream = bot.ai.stream!({ conversationId: 'c', history: [], text: 'q4', tenant: 'T1' });
    await expect((async () => {
      for await (const chunk of stream.chunks) void chunk;
    })()).rejects.toThrow();
    expect(ai.calls.filter((c) => c.body.stream).map((c) => c.body.model)).toEqual(['gpt-4o-mini']);
    const spend = new Spend(tally, {});
    await expect.poll(async () => (await spend.summary()).today.totalUsd).toBeGreaterThan(ONE_ANSWER);
    expect(Object.keys((await spend.summary()).today.byModel)).toEqual(['gpt-4o-mini']);
  });
});

describe("a stream cut short from the developer's own AI client", () => {
  it('is estimated at the model its stream names, under the AI calls-per-minute limit too', async () => {
    // A client of the developer's that routes this question to gpt-4o, whatever OPENAI_MODEL says.
    const own: AiClient = {
      circuit: 'closed',
      reply: async () => ({ text: LONG, model: 'gpt-4o', usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 }, cached: false }) as AiResult,
      stream: () => {
        const result = new Promise<AiResult>(() => undefined);
        return {
          chunks: (async function* () {
            yield 'a first piece';
            yield 'and more';
          })(),
          result,
          model: () => 'gpt-4o',
        };
      },
    };
    const tally = new MemoryTally();
    bot = createBot({ config: loadConfig({ ...testEnv, OPENAI_API_KEY: 'k', OPENAI_MODEL: 'gpt-4o-mini', AI_CALLS_PER_MINUTE: '100' }), tally, ai: own, worker: false });
    expect(await readFirstThenStop(bot, 'q6', async () => undefined)).toBe('a first piece');
    const spend = new Spend(tally, {});
    await expect.poll(async () => (await spend.summary()).today.totalUsd).toBeGreaterThan(0);
    expect(Object.keys((await spend.summary()).today.byModel)).toEqual(['gpt-4o']);
  });
});

describe('a stream parley cut at the reply cap (OPENAI_MAX_OUTPUT_TOKENS × 32 characters)', () => {
  /** OPENAI_MAX_OUTPUT_TOKENS=2: the answer is cut at 64 characters, before the usage chunk that ends the stream. */
  async function startCapped(answer: Parameters<FakeOpenAi['script']>[0]) {
    ai = await startFakeOpenAi(answer);
    const tally = new MemoryTally();
    const env = { ...testEnv, OPENAI_API_KEY: 'k', OPENAI_BASE_URL: ai.url, OPENAI_MODEL: 'gpt-4o-mini', OPENAI_MAX_OUTPUT_TOKENS: '2' };
    bot = createBot({ config: loadConfig(env), tally, worker: false });
    const stream = bot.ai.stream!({ conversationId: 'c', history: [], text: 'q7', tenant: 'T1' });
    let shown = '';
    for await (const chunk of stream.chunks) shown += chunk;
    expect((await stream.result).text).toBe(shown);
    await bot.close(); // lets any count under way land
    return {
      shown,
      billed: (await metricValue(bot.metrics, 'parley_ai_cost_usd_total', { model: 'gpt-4o-mini' })) ?? 0,
      spent: (await new Spend(tally, {}).summary()).today.totalUsd,
    };
  }

  it('counts its estimated cost, once, toward the budget and the cost metric alike', async () => {
    const { shown, billed, spent } = await startCapped(() => ({ text: 'x'.repeat(400) }));
    expect(shown).toBe('x'.repeat(64));
    // The prompt (the default system prompt and "q7") and the 64 characters shown, at gpt-4o-mini's price.
    expect(billed).toBeGreaterThan(64 / 4 * 0.6e-6);
    expect(spent).toBeCloseTo(billed, 12);
  });

  it('counts the usage the server did report before the cut, no estimate instead or on top', async () => {
    const event = (content: string, usage?: object) => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content }, finish_reason: null }], ...(usage ? { usage } : {}) });
    // A server that reports usage as it goes (vLLM's continuous usage stats), and writes past the cap.
    const { shown, billed, spent } = await startCapped(() => ({ events: [event('y'.repeat(40), { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 }), event('y'.repeat(40)), '[DONE]'] }));
    expect(shown).toBe('y'.repeat(64));
    expect(billed).toBeCloseTo(ONE_ANSWER, 12);
    expect(spent).toBeCloseTo(ONE_ANSWER, 12);
  });
});
