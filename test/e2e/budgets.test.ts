/**
 * AI budgets through the whole bot: the web chat, the fake OpenAI at the HTTP boundary (gpt-4o-mini,
 * priced, so each answer costs 12 input + 5 output tokens = $0.0000048), a tiny AI_BUDGET_USD_PER_DAY
 * and a local fake of the alert webhook. AI_BUDGET_POLICY notice, fallback and allow.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConversationHistory } from '../../src/ai/history.js';
import { ConfigError, loadConfig } from '../../src/index.js';
import { startAlertingBot, type AlertingBot } from '../helpers/alerting-bot.js';
import { postedTexts } from '../helpers/ops.js';
import { until } from '../helpers/until.js';
import { assistantReplies, testEnv, type WebBot } from '../helpers/web-bot.js';

/** One answer's cost is $0.0000048: the first answer reaches 87% of this, the second 175%. */
const ONE_AND_A_BIT = '0.0000055';
/** The first answer alone is past this. */
const LESS_THAN_ONE = '0.000004';
const NOTICE = 'The AI budget is spent for today.';

let running: AlertingBot | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await running?.close();
  running = undefined;
});

async function start(env: Record<string, string>): Promise<AlertingBot> {
  running = await startAlertingBot({ OPENAI_API_KEY: 'x', OPENAI_MODEL: 'gpt-4o-mini', ...env });
  return running;
}

/** Post `text` and wait for the conversation's `n`th reply; returns it. */
async function say(bot: WebBot, conversation: string, text: string, n: number) {
  await bot.post(conversation, text);
  const replies = assistantReplies(await bot.waitFor(conversation, (e) => assistantReplies(e).length >= n));
  return replies[n - 1]!;
}

async function metricsText(bot: WebBot): Promise<string> {
  return (await fetch(`${bot.url}/metrics`)).text();
}

describe('AI_BUDGET_POLICY=notice', () => {
  it('past the budget: the notice, no AI call, nothing of it in the history; one warning and one "exceeded" alert', async () => {
    const { ai, webhook, web } = await start({ AI_BUDGET_USD_PER_DAY: ONE_AND_A_BIT, AI_BUDGET_NOTICE: NOTICE });
    expect(await say(web, 'n1', 'one', 1)).toMatchObject({ kind: 'answer', text: 'echo: one', model: 'gpt-4o-mini' });
    expect(await say(web, 'n1', 'two', 2)).toMatchObject({ kind: 'answer', text: 'echo: two' });
    expect(await say(web, 'n1', 'three', 3)).toMatchObject({ kind: 'notice', text: NOTICE });
    expect(await say(web, 'n2', 'elsewhere', 1)).toMatchObject({ kind: 'notice', text: NOTICE });
    expect(ai.calls.map((c) => c.body.messages.at(-1)?.content)).toEqual(['one', 'two']);

    const history = new ConversationHistory(web.bot.store, web.bot.config.history);
    expect((await history.window({ platform: 'web', id: 'n1' })).map((t) => [t.role, t.text])).toEqual([
      ['user', 'one'],
      ['assistant', 'echo: one'],
      ['user', 'two'],
      ['assistant', 'echo: two'],
    ]);
    expect(await metricsText(web)).toMatch(/^parley_ai_budget_actions_total\{action="notice"\} 2$/m);

    // The next UTC day the AI answers again, and what it reads holds no notice.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 24 * 3_600_000);
    expect(await say(web, 'n1', 'four', 4)).toMatchObject({ kind: 'answer', text: 'echo: four' });
    expect(ai.calls[2]!.body.messages.filter((m) => m.role !== 'system').map((m) => m.content)).toEqual(['one', 'echo: one', 'two', 'echo: two', 'four']);

    await web.close();
    const texts = postedTexts(webhook);
    expect(texts).toHaveLength(3);
    expect(texts[0]).toMatch(/^parley: 87% of the daily AI budget is spent: /);
    expect(texts[1]).toMatch(/^parley: the daily AI budget is spent \(100%\): /);
    // The next day's first answer is that day's own warning.
    expect(texts[2]).toMatch(/^parley: 87% of the daily AI budget is spent: /);
    expect(texts[2]!.match(/UTC day (\S+)\)/)![1]).not.toBe(texts[0]!.match(/UTC day (\S+)\)/)![1]);
  });
});

describe('AI_BUDGET_USD_PER_TENANT_PER_DAY', () => {
  it("a spent tenant gets the notice; another tenant and the tenantless are answered", async () => {
    const { ai, web } = await start({ AI_BUDGET_USD_PER_TENANT_PER_DAY: LESS_THAN_ONE, AI_BUDGET_NOTICE: NOTICE });
    // The web chat sets no tenant: messages from a workspace, as an adapter hands them over.
    let n = 0;
    const fromTenant = async (tenant: string, text: string) => {
      const conversation = `t-${tenant}`;
      const before = assistantReplies(await web.transcript(conversation)).length;
      await web.bot.ingest({ id: `m${++n}`, platform: 'web', conversation: { platform: 'web', id: conversation }, user: { id: 'u' }, tenant, text, receivedAt: new Date().toISOString() });
      return assistantReplies(await web.waitFor(conversation, (e) => assistantReplies(e).length > before)).at(-1)!;
    };
    expect(await fromTenant('A', 'one')).toMatchObject({ kind: 'answer', text: 'echo: one' });
    expect(await fromTenant('A', 'two')).toMatchObject({ kind: 'notice', text: NOTICE });
    expect(await fromTenant('B', 'three')).toMatchObject({ kind: 'answer', text: 'echo: three' });
    expect(await say(web, 'no-tenant', 'four', 1)).toMatchObject({ kind: 'answer', text: 'echo: four' });
    expect(ai.calls.map((c) => c.body.messages.at(-1)?.content)).toEqual(['one', 'three', 'four']);
  });
});

describe('AI_BUDGET_POLICY=fallback', () => {
  it('past the budget OPENAI_FALLBACK_MODEL answers', async () => {
    const { ai, web } = await start({ AI_BUDGET_USD_PER_DAY: LESS_THAN_ONE, AI_BUDGET_POLICY: 'fallback', OPENAI_FALLBACK_MODEL: 'cheap-model' });
    expect(await say(web, 'f1', 'one', 1)).toMatchObject({ kind: 'answer', model: 'gpt-4o-mini' });
    expect(await say(web, 'f1', 'two', 2)).toMatchObject({ kind: 'answer', text: 'echo: two', model: 'cheap-model' });
    expect(await say(web, 'f1', 'three', 3)).toMatchObject({ model: 'cheap-model' });
    expect(ai.calls.map((c) => c.body.model)).toEqual(['gpt-4o-mini', 'cheap-model', 'cheap-model']);
    // The fallback's answers are the model's turns: the next call reads them.
    expect(ai.calls[2]!.body.messages.map((m) => m.content)).toContain('echo: two');
    expect(await metricsText(web)).toMatch(/^parley_ai_budget_actions_total\{action="fallback"\} 2$/m);
  });

  it('without OPENAI_FALLBACK_MODEL is a configuration error', () => {
    expect(() => loadConfig({ ...testEnv, AI_BUDGET_POLICY: 'fallback', AI_BUDGET_USD_PER_DAY: '1' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...testEnv, AI_BUDGET_POLICY: 'fallback' })).toThrow(/OPENAI_FALLBACK_MODEL/);
  });
});

describe('AI_BUDGET_POLICY=allow', () => {
  it('past the budget the AI still answers; the alert is posted once', async () => {
    const { ai, webhook, web } = await start({ AI_BUDGET_USD_PER_DAY: LESS_THAN_ONE, AI_BUDGET_POLICY: 'allow' });
    for (const [i, text] of ['one', 'two', 'three'].entries()) expect(await say(web, 'a1', text, i + 1)).toMatchObject({ kind: 'answer', text: `echo: ${text}` });
    expect(ai.calls).toHaveLength(3);
    await until(() => webhook.calls.length > 0, 'the budget alert');
    expect(await metricsText(web)).toMatch(/^parley_ai_budget_actions_total\{action="allow"\} 2$/m);
    await web.close();
    expect(webhook.calls).toHaveLength(1);
    expect(JSON.parse(webhook.calls[0]!.raw)).toEqual({ text: expect.stringMatching(/^parley: the daily AI budget is spent \(100%\): \$[\d.]+ of \$[\d.]+ \(UTC day \d{4}-\d\d-\d\d\)\.$/) });
  });
});

describe('a conversation too long for the model, past a budget', () => {
  it('is checked against the budget once, though the model is asked again with less history', async () => {
    const { ai, web } = await start({ AI_BUDGET_USD_PER_DAY: LESS_THAN_ONE, AI_BUDGET_POLICY: 'allow' });
    expect(await say(web, 'long1', 'one', 1)).toMatchObject({ kind: 'answer', text: 'echo: one' });
    // The model now reads the system prompt and the question, no history.
    ai.script((call) =>
      call.body.messages.length > 2
        ? { status: 400, body: { error: { message: "This model's maximum context length is 8192 tokens.", type: 'invalid_request_error', code: 'context_length_exceeded' } } }
        : { text: `echo: ${String(call.body.messages.at(-1)?.content)}` },
    );
    expect(await say(web, 'long1', 'two', 2)).toMatchObject({ kind: 'answer', text: 'echo: two' });
    // Asked with both earlier turns, then with none (their newest half, an answer alone, is no history:
    // one starts at a user's turn): one message past the budget.
    expect(ai.calls.slice(1).map((call) => call.body.messages.length)).toEqual([4, 2]);
    expect(await metricsText(web)).toMatch(/^parley_ai_budget_actions_total\{action="allow"\} 1$/m);
  });
});

describe('empty answers', () => {
  it('are spent like replies: the budget, its alert and the console count them as the cost metric does', async () => {
    // Content "" cut at the output limit, 1000 + 1000 tokens billed: $0.00075 a call, two calls a message.
    const empty = { body: { id: 'chatcmpl-e', object: 'chat.completion', created: 0, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'length' }], usage: { prompt_tokens: 1000, completion_tokens: 1000, total_tokens: 2000 } } };
    const ADMIN_TOKEN = 'empty-answers-admin-token-5c1e';
    const { ai, webhook, web } = await start({ AI_BUDGET_USD_PER_DAY: '0.001', AI_BUDGET_NOTICE: NOTICE, JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '100', ADMIN_TOKEN });
    ai.script(() => empty);
    await web.post('e1', 'one');
    await until(() => ai.calls.length >= 2, 'both empty answers');
    await until(() => webhook.calls.length > 0, 'the budget alert');
    expect(await say(web, 'e2', 'two', 1)).toMatchObject({ kind: 'notice', text: NOTICE });
    expect(ai.calls).toHaveLength(2);
    expect(await metricsText(web)).toMatch(/^parley_ai_cost_usd_total\{model="gpt-4o-mini"\} 0\.0015$/m);
    const console = await fetch(`${web.url}/console/api/budgets`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(((await console.json()) as { budgets: unknown[] }).budgets).toEqual([expect.objectContaining({ period: 'day', spentUsd: expect.closeTo(0.0015, 10), state: 'exceeded' })]);
    await web.close();
    expect(postedTexts(webhook)).toEqual([expect.stringMatching(/^parley: the daily AI budget is spent \(100%\): \$0\.0015 of \$0\.0010 /)]);
  });
});
