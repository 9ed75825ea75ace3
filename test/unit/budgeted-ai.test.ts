/**
 * The AI client under the budgets (BudgetedAiClient over Spend on memory), with plain objects at
 * the AiClient interface standing for the primary and the cheaper model: per-tenant budgets,
 * AI_BUDGET_POLICY's three answers, streaming, and what happens when spend cannot be read.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { FallbackAiClient } from '../../src/ai/fallback.js';
import { fittingContext, NoProviderAiClient, type AiClient, type AiRequest, type AiResult } from '../../src/ai/index.js';
import type { BudgetConfig } from '../../src/config.js';
import { BudgetedAiClient } from '../../src/ops/budgeted-ai.js';
import { MemoryTally, type Tally } from '../../src/ops/tally.js';
import { metricValue, opsParts, quietLogger, type Limits } from '../helpers/ops.js';

const NOTICE = 'Budget spent, back tomorrow.';

/** A model at the interface: answers "<model>: <text>" for `costUsd`, and remembers who asked. */
function fakeModel(model: string, costUsd: number, streams = false) {
  const asked: AiRequest[] = [];
  const result = (request: AiRequest): AiResult => ({ text: `${model}: ${request.text}`, model, usage: { inputTokens: 10, outputTokens: 5, costUsd }, cached: false });
  const client: AiClient & { asked: AiRequest[] } = {
    asked,
    circuit: 'closed',
    async reply(request) {
      asked.push(request);
      return result(request);
    },
    ...(streams
      ? {
          stream(request: AiRequest) {
            asked.push(request);
            const whole = result(request);
            const chunks = (async function* () {
              yield `${model}: `;
              yield request.text;
            })();
            return { chunks, result: Promise.resolve(whole) };
          },
        }
      : {}),
  };
  return client;
}

function budgeted(limits: Limits, policy: BudgetConfig['policy'], options: { streams?: boolean; tally?: Tally } = {}) {
  const parts = opsParts({ limits, ...(options.tally ? { tally: options.tally } : {}) });
  const primary = fakeModel('big', 1, options.streams);
  const cheaper = fakeModel('small', 0.25, options.streams);
  const ai = new BudgetedAiClient(primary, { spend: parts.spend, policy, notice: NOTICE, cheaper, metrics: parts.metrics, logger: quietLogger });
  const ask = (text: string, tenant?: string) => ai.reply({ conversationId: 'c', history: [], text, ...(tenant ? { tenant } : {}) });
  return { ...parts, ai, primary, cheaper, ask, actions: (action: string) => metricValue(parts.metrics, 'parley_ai_budget_actions_total', { action }) };
}

describe('BudgetedAiClient', () => {
  it('counts each answer under its model and tenant', async () => {
    const { ask, spend } = budgeted({}, 'notice');
    await ask('a', 'T1');
    await ask('b', 'T1');
    await ask('c');
    const { today } = await spend.summary();
    expect(today).toEqual({ totalUsd: 3, byModel: { big: 3 }, byTenant: { T1: 2, '-': 1 } });
  });

  it('notice: past a tenant budget that tenant gets the notice, no AI call, and others are still answered', async () => {
    const { ask, primary, actions } = budgeted({ tenantDayUsd: 2 }, 'notice');
    expect((await ask('one', 'A')).text).toBe('big: one');
    expect((await ask('two', 'A')).text).toBe('big: two');
    const notice = await ask('three', 'A');
    expect(notice).toEqual({ text: NOTICE, model: 'budget', usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 }, cached: false, notice: true });
    expect(primary.asked.map((r) => r.text)).toEqual(['one', 'two']);
    expect((await ask('hello', 'B')).text).toBe('big: hello');
    expect((await ask('four', 'A')).notice).toBe(true);
    expect(await actions('notice')).toBe(2);
  });

  it("says which conversation got the budget's notice (the message's own lines name it so), never its text", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>), done()) }));
    const parts = opsParts({ limits: { tenantDayUsd: 1 } });
    const ai = new BudgetedAiClient(fakeModel('big', 1), { spend: parts.spend, policy: 'notice', notice: NOTICE, metrics: parts.metrics, logger });
    await ai.reply({ conversationId: 'T1:C0FIRST:1.2', history: [], text: 'first', tenant: 'T1' });
    await ai.reply({ conversationId: 'T1:C0CUSTOMER:3.4', history: [], text: 'secret question', tenant: 'T1' });
    await vi.waitFor(() => expect(lines.filter((line) => line.msg === 'AI budget spent')).toHaveLength(1));
    expect(lines.find((line) => line.msg === 'AI budget spent')).toMatchObject({ action: 'notice', scope: 'tenant', tenant: 'T1', conversation: 'T1:C0CUSTOMER:3.4' });
    expect(JSON.stringify(lines)).not.toContain('secret question');
  });

  it('notice: past the overall budget every tenant gets it', async () => {
    const { ask, primary } = budgeted({ dayUsd: 2, tenantDayUsd: 100 }, 'notice');
    await ask('one', 'A');
    await ask('two', 'B');
    expect((await ask('three', 'C')).notice).toBe(true);
    expect((await ask('four')).notice).toBe(true);
    expect(primary.asked).toHaveLength(2);
  });

  it('fallback: past the budget the cheaper model answers, and its cost is counted too', async () => {
    const { ask, primary, cheaper, spend, actions } = budgeted({ tenantDayUsd: 1 }, 'fallback');
    await ask('one', 'A');
    const cheap = await ask('two', 'A');
    expect(cheap).toMatchObject({ text: 'small: two', model: 'small' });
    expect(cheap.notice).toBeUndefined();
    expect((await ask('three', 'B')).model).toBe('big');
    expect(primary.asked.map((r) => r.text)).toEqual(['one', 'three']);
    expect(cheaper.asked.map((r) => [r.text, r.tenant])).toEqual([['two', 'A']]);
    expect((await spend.summary()).today.byModel).toEqual({ big: 2, small: 0.25 });
    expect(await actions('fallback')).toBe(1);
  });

  it('fallback without a cheaper client is a notice', async () => {
    const parts = opsParts({ limits: { dayUsd: 1 } });
    const primary = fakeModel('big', 1);
    const ai = new BudgetedAiClient(primary, { spend: parts.spend, policy: 'fallback', notice: NOTICE, metrics: parts.metrics, logger: quietLogger });
    await ai.reply({ conversationId: 'c', history: [], text: 'one' });
    expect((await ai.reply({ conversationId: 'c', history: [], text: 'two' })).notice).toBe(true);
  });

  it('allow: the primary still answers; counted as allow, alerted once', async () => {
    const { ask, primary, actions, alerts } = budgeted({ dayUsd: 1 }, 'allow');
    for (const text of ['one', 'two', 'three']) expect((await ask(text)).text).toBe(`big: ${text}`);
    expect(primary.asked).toHaveLength(3);
    expect(await actions('allow')).toBe(2);
    await alerts.settled();
    expect((await alerts.recent()).map((a) => a.kind)).toEqual(['budget_exceeded']);
  });

  it('streams: the notice as the only chunk, or the model chosen by the budget', async () => {
    const { ai, primary } = budgeted({ dayUsd: 1 }, 'notice', { streams: true });
    const read = async (text: string) => {
      const stream = ai.stream!({ conversationId: 'c', history: [], text });
      let streamed = '';
      for await (const chunk of stream.chunks) streamed += chunk;
      return { streamed, result: await stream.result };
    };
    expect(await read('one')).toMatchObject({ streamed: 'big: one', result: { model: 'big' } });
    expect(await read('two')).toMatchObject({ streamed: NOTICE, result: { notice: true, text: NOTICE } });
    expect(primary.asked).toHaveLength(1);
  });

  it("passes on the inner stream's own notice (no AI provider), known before its text", async () => {
    const parts = opsParts({ limits: {} });
    // As createBot wraps it: the budget over fittingContext over the client.
    const ai = new BudgetedAiClient(fittingContext(new NoProviderAiClient()), { spend: parts.spend, policy: 'notice', notice: NOTICE, metrics: parts.metrics, logger: quietLogger });
    const stream = ai.stream!({ conversationId: 'c', history: [], text: 'ping' });
    expect(await stream.notice).toBe(true);
    let streamed = '';
    for await (const chunk of stream.chunks) streamed += chunk;
    expect(streamed).toContain('No AI provider configured');
    expect((await stream.result).notice).toBe(true);
    // With a fallback model set, the no-provider primary never fails over: still a notice.
    const withFallback = new BudgetedAiClient(fittingContext(new FallbackAiClient(new NoProviderAiClient(), fakeModel('spare', 1, true), 1000)), { spend: parts.spend, policy: 'notice', notice: NOTICE, metrics: parts.metrics, logger: quietLogger });
    const fallbackStream = withFallback.stream!({ conversationId: 'c', history: [], text: 'ping' });
    expect(await fallbackStream.notice).toBe(true);
    for await (const chunk of fallbackStream.chunks) void chunk;
    // A model's stream is no notice.
    const { ai: budgetedModel, primary } = budgeted({}, 'notice', { streams: true });
    const answer = budgetedModel.stream!({ conversationId: 'c', history: [], text: 'hi' });
    expect(await answer.notice).toBe(false);
    // Known without starting the stream: one nobody reads (its sink failed first) asks no model.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(primary.asked).toHaveLength(0);
    for await (const chunk of answer.chunks) void chunk;
    expect(primary.asked).toHaveLength(1);
  });

  it('a stream cut short (its reader stopped, or the AI failed after some text) counts its estimated cost, and its result settles', async () => {
    const parts = opsParts({ limits: {} });
    let failMidway = false;
    const model: AiClient = {
      circuit: 'closed',
      reply: async () => Promise.reject(new Error('not used')),
      stream: () => ({
        chunks: (async function* () {
          yield 'first words ';
          if (failMidway) throw new Error('the AI stream broke');
          yield 'and the rest';
        })(),
        // A stream cut short never learns its usage.
        result: new Promise<AiResult>(() => undefined),
      }),
    };
    const estimates: string[] = [];
    const ai = new BudgetedAiClient(model, {
      spend: parts.spend,
      policy: 'notice',
      notice: NOTICE,
      metrics: parts.metrics,
      logger: quietLogger,
      estimate: (_request, shown) => (estimates.push(shown), { model: 'big', costUsd: 0.5 }),
    });
    const request = { conversationId: 'c', history: [], text: 'q', tenant: 'T1' };

    const stopped = ai.stream!(request);
    for await (const chunk of stopped.chunks) {
      expect(chunk).toBe('first words ');
      break; // the platform refused the stream after its first update
    }
    await expect(stopped.result).rejects.toThrow(/stopped by its reader/);

    failMidway = true;
    const broken = ai.stream!(request);
    await expect((async () => {
      for await (const chunk of broken.chunks) void chunk;
    })()).rejects.toThrow('the AI stream broke');
    await expect(broken.result).rejects.toThrow('the AI stream broke');

    expect(estimates).toEqual(['first words ', 'first words ']);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await parts.spend.summary()).today).toEqual({ totalUsd: 1, byModel: { big: 1 }, byTenant: { T1: 1 } });
  });

  it("past a budget, a client's cached answer (fromCache) is given with no AI call; a cache that fails is a miss, and the policy answers", async () => {
    const { ask, primary, actions } = budgeted({ dayUsd: 1 }, 'notice');
    let cache: () => Promise<AiResult | undefined> = async () => ({ text: 'kept answer', model: 'big', usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 }, cached: true });
    let looked = 0;
    primary.fromCache = () => (looked++, cache());
    expect((await ask('one')).text).toBe('big: one'); // spends the budget
    expect(looked).toBe(0); // within the budget the client's own reply reads its cache: no look on top
    expect(await ask('one')).toMatchObject({ text: 'kept answer', cached: true });
    cache = async () => Promise.reject(new Error('cache down'));
    expect(await ask('one')).toMatchObject({ text: NOTICE, notice: true });
    expect(primary.asked.map((r) => r.text)).toEqual(['one']);
    expect(await actions('notice')).toBe(1);
  });

  it('a client without stream gives none', () => {
    const { ai } = budgeted({}, 'notice');
    expect(ai.stream).toBeUndefined();
    expect(ai.circuit).toBe('closed');
  });

  it('the answer does not wait for its cost to be counted; the count lands afterwards', async () => {
    const counts = new MemoryTally();
    let letThrough!: () => void;
    const held = new Promise<void>((resolve) => (letThrough = resolve));
    // A slow counter (as a Redis round trip is): each add waits for the test.
    const slow: Tally = { add: async (...args) => held.then(() => counts.add(...args)), read: (...args) => counts.read(...args) };
    const { ask, spend } = budgeted({}, 'notice', { tally: slow });
    expect((await ask('one', 'T1')).text).toBe('big: one');
    expect((await spend.summary()).today.totalUsd).toBe(0);
    letThrough();
    await expect.poll(async () => (await spend.summary()).today).toEqual({ totalUsd: 1, byModel: { big: 1 }, byTenant: { T1: 1 } });
  });

  it('spend that cannot be read does not stop answers', async () => {
    const broken: Tally = {
      add: async () => Promise.reject(new Error('Redis down')),
      read: async () => Promise.reject(new Error('Redis down')),
    };
    const { ask } = budgeted({ dayUsd: 0.01 }, 'notice', { tally: broken });
    expect((await ask('one')).text).toBe('big: one');
    expect((await ask('two')).text).toBe('big: two');
  });

  it('spend that cannot be read is logged when it starts, then once a minute with how many were left out, and once when it can be read again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const lines: Record<string, unknown>[] = [];
      const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>), done()) }));
      const tally = new MemoryTally();
      const read = tally.read.bind(tally);
      const parts = opsParts({ limits: { dayUsd: 100 }, tally });
      const ai = new BudgetedAiClient(fakeModel('big', 1), { spend: parts.spend, policy: 'notice', notice: NOTICE, metrics: parts.metrics, logger });
      const ask = async (calls: number) => {
        for (let i = 0; i < calls; i++) {
          vi.setSystemTime(Date.now() + 5000);
          expect((await ai.reply({ conversationId: 'c', history: [], text: 'hi' })).text).toBe('big: hi');
        }
      };
      const unreadable = 'could not read the AI spend; answering without the budget check (logged once a minute while it lasts)';
      tally.read = () => Promise.reject(new Error('Redis down'));
      await ask(24); // two minutes of calls, one per 5 s
      expect(lines.map(({ level, msg, leftOut }) => ({ level, msg, leftOut }))).toEqual([
        { level: 40, msg: unreadable, leftOut: undefined },
        { level: 40, msg: unreadable, leftOut: 11 },
      ]);
      expect(lines[0]!.err).toMatchObject({ message: 'Redis down' });
      tally.read = read;
      await ask(3);
      expect(lines.slice(2)).toMatchObject([{ level: 30, msg: 'the AI spend can be read again; the budget checks apply', unreadableSeconds: 120, unchecked: 24 }]);
      expect(lines).toHaveLength(3);
      // A new outage is told at once.
      tally.read = () => Promise.reject(new Error('down again'));
      await ask(1);
      expect(lines.slice(3)).toMatchObject([{ level: 40, msg: unreadable, err: { message: 'down again' } }]);
      expect(lines[3]!.leftOut).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});
