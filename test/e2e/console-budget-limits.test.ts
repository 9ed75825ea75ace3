/**
 * Budget limits set from the console over HTTP (no browser), one process on memory: POST
 * /console/api/budgets/limit sets a limit to an amount, to no limit, or back to the environment's;
 * refuses what is no limit or no amount (400), the unauthenticated (401) and non-JSON bodies (415);
 * the next message is held to the new limit; and a raised budget alerts again when it is crossed.
 * The fake OpenAI prices each answer at $0.0000048 (gpt-4o-mini, 12 + 5 tokens).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BudgetLimitChange, BudgetsView } from '../../src/console/api.js';
import { startAlertingBot, type AlertingBot } from '../helpers/alerting-bot.js';
import { postedTexts } from '../helpers/ops.js';
import { until } from '../helpers/until.js';
import { assistantReplies, type WebBot } from '../helpers/web-bot.js';

const TOKEN = 'budget-limits-admin-token-7a3e51';
const NOTICE = 'The AI budget is spent for today.';
/** One answer's cost is $0.0000048: the first answer reaches 87% of this, the second 175%. */
const ONE_AND_A_BIT = '0.0000055';

let running: AlertingBot | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(env: Record<string, string> = {}): Promise<AlertingBot> {
  running = await startAlertingBot({ OPENAI_API_KEY: 'x', OPENAI_MODEL: 'gpt-4o-mini', ADMIN_TOKEN: TOKEN, AI_BUDGET_NOTICE: NOTICE, ...env });
  return running;
}

const bearer = { authorization: `Bearer ${TOKEN}` };
const setLimit = (bot: WebBot, body: unknown, headers: Record<string, string> = { ...bearer, 'content-type': 'application/json' }) =>
  fetch(`${bot.url}/console/api/budgets/limit`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

async function budgetsOf(bot: WebBot): Promise<BudgetsView> {
  const res = await fetch(`${bot.url}/console/api/budgets`, { headers: bearer });
  expect(res.status).toBe(200);
  return (await res.json()) as BudgetsView;
}

async function changed(bot: WebBot, body: unknown): Promise<BudgetLimitChange> {
  const res = await setLimit(bot, body);
  expect(res.status, JSON.stringify(body)).toBe(200);
  return (await res.json()) as BudgetLimitChange;
}

/** Post `text` and wait for the conversation's `n`th reply; returns it. */
async function say(bot: WebBot, conversation: string, text: string, n: number) {
  await bot.post(conversation, text);
  return assistantReplies(await bot.waitFor(conversation, (e) => assistantReplies(e).length >= n))[n - 1]!;
}

describe('POST /console/api/budgets/limit', () => {
  it("sets a limit, takes it away, and goes back to the environment's; the budgets view says where each comes from", async () => {
    const { web } = await start({ AI_BUDGET_USD_PER_DAY: '20', AI_BUDGET_USD_PER_TENANT_PER_MONTH: '40' });
    expect((await budgetsOf(web)).sources).toEqual({ dayUsd: 'environment', monthUsd: 'environment', tenantDayUsd: 'environment', tenantMonthUsd: 'environment' });

    expect(await changed(web, { limit: 'dayUsd', usd: 50 })).toEqual({ limit: 'dayUsd', variable: 'AI_BUDGET_USD_PER_DAY', oldUsd: 20, newUsd: 50, source: 'console', effectiveFrom: expect.any(String) });
    // The environment variable's name is taken too.
    expect(await changed(web, { limit: 'AI_BUDGET_USD_PER_TENANT_PER_MONTH', usd: null })).toMatchObject({ limit: 'tenantMonthUsd', oldUsd: 40, newUsd: null, source: 'console' });
    expect(await changed(web, { limit: 'monthUsd', usd: 0.25 })).toMatchObject({ oldUsd: null, newUsd: 0.25 });
    let view = await budgetsOf(web);
    expect(view.limits).toEqual({ dayUsd: 50, monthUsd: 0.25 });
    expect(view.environment).toEqual({ dayUsd: 20, tenantMonthUsd: 40 });
    expect(view.sources).toEqual({ dayUsd: 'console', monthUsd: 'console', tenantDayUsd: 'environment', tenantMonthUsd: 'console' });

    expect(await changed(web, { limit: 'dayUsd', usd: 'environment' })).toMatchObject({ oldUsd: 50, newUsd: 20, source: 'environment' });
    expect(await changed(web, { limit: 'tenantMonthUsd', usd: 'environment' })).toMatchObject({ oldUsd: null, newUsd: 40 });
    view = await budgetsOf(web);
    expect(view.limits).toEqual({ dayUsd: 20, monthUsd: 0.25, tenantMonthUsd: 40 });
    expect(view.sources).toMatchObject({ dayUsd: 'environment', tenantMonthUsd: 'environment' });
  });

  it('refuses what is no limit or no amount with 400 invalid_budget_limit, changing nothing', async () => {
    const { web } = await start({ AI_BUDGET_USD_PER_DAY: '20' });
    const refused: [unknown, RegExp][] = [
      ['not json', /JSON object/],
      [[1, 2], /JSON object/],
      [{ usd: 5 }, /"limit" names no budget limit: use one of dayUsd \(AI_BUDGET_USD_PER_DAY\)/],
      [{ limit: 'weekUsd', usd: 5 }, /names no budget limit/],
      [{ limit: 'dayUsd' }, /"usd" must be an amount in US dollars/],
      [{ limit: 'dayUsd', usd: '5' }, /a JSON number/],
      [{ limit: 'dayUsd', usd: -1 }, /from 0 to 1000000, got -1/],
      [{ limit: 'dayUsd', usd: 1e7 }, /from 0 to 1000000/],
      // JSON has no Infinity: a number too large for a double is read as one.
      ['{"limit":"dayUsd","usd":1e400}', /"usd" must be an amount/],
    ];
    for (const [body, message] of refused) {
      const res = await setLimit(web, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('invalid_budget_limit');
      expect(error.message).toMatch(message);
    }
    expect((await budgetsOf(web)).limits).toEqual({ dayUsd: 20 });
  });

  it('refuses the unauthenticated (401), a wrong token (401), a body that is not JSON (415) and GET (405)', async () => {
    const { web } = await start({ AI_BUDGET_USD_PER_DAY: '20' });
    const body = { limit: 'dayUsd', usd: 999 };
    expect((await setLimit(web, body, { 'content-type': 'application/json' })).status).toBe(401);
    expect((await setLimit(web, body, { authorization: 'Bearer not-the-admin-token-at-all', 'content-type': 'application/json' })).status).toBe(401);
    // What a form on another site could send.
    const form = await setLimit(web, 'limit=dayUsd&usd=999', { ...bearer, 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect((await setLimit(web, JSON.stringify(body), { ...bearer, 'content-type': 'text/plain' })).status).toBe(415);
    const get = await fetch(`${web.url}/console/api/budgets/limit`, { headers: bearer });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await budgetsOf(web)).limits).toEqual({ dayUsd: 20 });
  });

  it('the next message is held to the new limit: $0 stops the AI, no limit lets it answer', async () => {
    const { ai, web } = await start();
    expect(await say(web, 'l1', 'one', 1)).toMatchObject({ kind: 'answer', text: 'echo: one' });
    await changed(web, { limit: 'dayUsd', usd: 0 });
    expect(await say(web, 'l1', 'two', 2)).toMatchObject({ kind: 'notice', text: NOTICE });
    expect((await budgetsOf(web)).budgets).toEqual([expect.objectContaining({ period: 'day', limitUsd: 0, state: 'exceeded' })]);
    await changed(web, { limit: 'dayUsd', usd: null });
    expect(await say(web, 'l1', 'three', 3)).toMatchObject({ kind: 'answer', text: 'echo: three' });
    expect(ai.calls.map((c) => c.body.messages.at(-1)?.content)).toEqual(['one', 'three']);
  });
});

describe('a budget raised in the console', () => {
  it('answers again, and alerts again ("exceeded" at the new limit) once the new limit is crossed', async () => {
    const { ai, webhook, web } = await start({ AI_BUDGET_USD_PER_DAY: ONE_AND_A_BIT });
    expect(await say(web, 'r1', 'one', 1)).toMatchObject({ kind: 'answer' });
    expect(await say(web, 'r1', 'two', 2)).toMatchObject({ kind: 'answer' });
    expect(await say(web, 'r1', 'three', 3)).toMatchObject({ kind: 'notice', text: NOTICE });
    await until(() => webhook.calls.length >= 2, 'the warning and the "exceeded" alert');

    // $0.0000096 spent of $0.000013: 74%, answered again.
    expect(await changed(web, { limit: 'dayUsd', usd: 0.000013 })).toMatchObject({ oldUsd: 0.0000055, newUsd: 0.000013 });
    expect(await say(web, 'r1', 'four', 4)).toMatchObject({ kind: 'answer', text: 'echo: four' });
    // $0.0000144 of $0.000013: past the new limit.
    expect(await say(web, 'r1', 'five', 5)).toMatchObject({ kind: 'notice', text: NOTICE });
    expect(ai.calls).toHaveLength(3);
    await web.close();
    const texts = postedTexts(webhook);
    expect(texts).toHaveLength(3);
    expect(texts[0]).toMatch(/^parley: 87% of the daily AI budget is spent: .* of \$0\.0000055 /);
    expect(texts[1]).toMatch(/^parley: the daily AI budget is spent \(100%\): .* of \$0\.0000055 /);
    expect(texts[2]).toMatch(/^parley: the daily AI budget is spent \(100%\): \$0\.000014 of \$0\.000013 /);
  });
});
