/**
 * GET /console/api/budgets with many tenants (a Slack app in many workspaces): the overall budgets,
 * the 100 tenant budgets nearest their limit and a count of the rest, instead of every one; a
 * `tenant` lookup (the id, or its start); and every budget, as before, while there are few.
 * A real bot on memory; the spend is counted into its shared counters as other processes would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BudgetsView } from '../../src/console/api.js';
import { Spend } from '../../src/ops/spend.js';
import { MemoryTally } from '../../src/ops/tally.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const ADMIN_TOKEN = 'console-budgets-page-admin-token-9b2f';
const TENANTS = 1500;

async function budgetsOf(web: WebBot, query = ''): Promise<BudgetsView> {
  const res = await fetch(`${web.url}/console/api/budgets${query}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as BudgetsView;
}

const tenantsOf = (view: BudgetsView) => view.budgets.filter((b) => b.scope === 'tenant');

describe('the Budgets tab with 1,500 tenants', () => {
  let web: WebBot;

  beforeAll(async () => {
    const tally = new MemoryTally();
    const limits = { dayUsd: 100, tenantDayUsd: 1, tenantMonthUsd: 10 };
    web = await startWebBot({ ADMIN_TOKEN, OPENAI_API_KEY: 'test', AI_BUDGET_USD_PER_DAY: '100', AI_BUDGET_USD_PER_TENANT_PER_DAY: '1', AI_BUDGET_USD_PER_TENANT_PER_MONTH: '10' }, { tally });
    // Tenant T<i> spent $i/1000: its day budget is at i/1000 (T800… past 80%, T1000… past 100%), its month's at a tenth of that.
    const spend = new Spend(tally, limits);
    for (let i = 1; i <= TENANTS; i++) await spend.record('gpt-4o-mini', `T${i}`, i / 1000);
  }, 60_000);
  afterAll(async () => {
    await web?.close();
  });

  it('lists the overall budget and the 100 tenant budgets nearest their limit, and counts the other 2,900 by state', async () => {
    const view = await budgetsOf(web);
    expect(view.budgets[0]).toMatchObject({ scope: 'overall', period: 'day' });
    expect(view.budgets.filter((b) => b.scope === 'overall')).toHaveLength(1);
    const tenants = tenantsOf(view);
    expect(tenants).toHaveLength(100);
    expect(view.limit).toBe(100);
    // Nearest first: T1500's day budget (150%) down to T1401's.
    expect(tenants.map((b) => `${b.tenant}/${b.period}`)).toEqual(Array.from({ length: 100 }, (_, i) => `T${TENANTS - i}/day`));
    // Left out: 2 × 1,500 − 100; of the 501 day budgets past 100% (T1000…T1500) 401, and the 200 past 80% (T800…T999).
    expect(view.otherBudgets).toEqual({ count: 2900, warning: 200, exceeded: 401 });
    // The rest of the view is as it was.
    expect(view).toMatchObject({ policy: 'notice', limits: { dayUsd: 100, tenantDayUsd: 1, tenantMonthUsd: 10 } });
    expect(view.tenant).toBeUndefined();
  });

  it('`limit` asks for more or fewer, held within 1…1000', async () => {
    expect(tenantsOf(await budgetsOf(web, '?limit=3')).map((b) => b.tenant)).toEqual(['T1500', 'T1499', 'T1498']);
    const most = await budgetsOf(web, '?limit=5000');
    expect(tenantsOf(most)).toHaveLength(1000);
    expect(most).toMatchObject({ limit: 1000, otherBudgets: { count: 2000 } });
    expect((await budgetsOf(web, '?limit=0')).limit).toBe(1);
    expect((await budgetsOf(web, '?limit=many')).limit).toBe(100);
  });

  it('`tenant` looks up the tenants whose id starts with it, the one named exactly first', async () => {
    // T7, T70…T79, T700…T799: 111 tenants, 222 budgets, all under 80%.
    const prefix = await budgetsOf(web, '?tenant=T7');
    const found = tenantsOf(prefix);
    expect(found).toHaveLength(100);
    expect(found.every((b) => b.tenant!.startsWith('T7'))).toBe(true);
    expect(found.slice(0, 2).map((b) => `${b.tenant}/${b.period}`)).toEqual(['T7/day', 'T7/month']);
    expect(found[2]).toMatchObject({ tenant: 'T799', period: 'day' });
    expect(prefix).toMatchObject({ tenant: 'T7', otherBudgets: { count: 122, warning: 0, exceeded: 0 } });
    // The overall budgets come along.
    expect(prefix.budgets[0]).toMatchObject({ scope: 'overall' });

    const exact = await budgetsOf(web, `?tenant=${encodeURIComponent(' T1234 ')}`);
    expect(tenantsOf(exact).map((b) => `${b.tenant}/${b.period}/${b.state}`)).toEqual(['T1234/day/exceeded', 'T1234/month/ok']);
    expect(exact.otherBudgets).toEqual({ count: 0, warning: 0, exceeded: 0 });

    const nobody = await budgetsOf(web, '?tenant=nobody');
    expect(tenantsOf(nobody)).toEqual([]);
    expect(nobody.otherBudgets.count).toBe(0);
  });
});

describe('the Budgets tab with few tenants', () => {
  it('lists every budget, nearest its limit first, and leaves none out', async () => {
    const tally = new MemoryTally();
    const web = await startWebBot({ ADMIN_TOKEN, OPENAI_API_KEY: 'test', AI_BUDGET_USD_PER_TENANT_PER_DAY: '1' }, { tally });
    try {
      const spend = new Spend(tally, { tenantDayUsd: 1 });
      await spend.record('gpt-4o-mini', 'A', 0.25);
      await spend.record('gpt-4o-mini', 'B', 0.9);
      await spend.record('gpt-4o-mini', undefined, 0.5);
      const view = await budgetsOf(web);
      expect(view.budgets.map((b) => [b.tenant, b.state])).toEqual([
        ['B', 'warning'],
        ['-', 'ok'],
        ['A', 'ok'],
      ]);
      expect(view.otherBudgets).toEqual({ count: 0, warning: 0, exceeded: 0 });
    } finally {
      await web.close();
    }
  });
});
