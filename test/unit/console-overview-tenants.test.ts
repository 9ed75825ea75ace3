/**
 * The console's overview (sent to every open console every 2 s) with many tenants: it names the
 * 20 that spent most and the 20 tenant budgets nearest their limit, and counts the rest, instead
 * of sending every tenant's figures each time. The Budgets tab lists 100 a page (console-budgets-page.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { budgets, overview, OVERVIEW_TENANTS, type ViewDeps } from '../../src/console/views.js';
import { BudgetLimits } from '../../src/ops/budget-limits.js';
import { opsParts, quietLogger, type Limits } from '../helpers/ops.js';

function deps(limits: Limits): ViewDeps & ReturnType<typeof opsParts> {
  const parts = opsParts({ limits });
  return {
    ...parts,
    limits: new BudgetLimits(parts.store, limits, quietLogger),
    budget: { policy: 'notice', ...limits } as ViewDeps['budget'],
    alertWebhook: false,
    counts: async () => ({ waiting: 0, active: 0, delayed: 0, dead: 0 }),
    breakers: async () => ({ state: 'closed', processes: {} }),
  };
}

describe('the overview with many tenants', () => {
  it('names the 20 tenants that spent most today and sums the others', async () => {
    const views = deps({ dayUsd: 1000, tenantDayUsd: 10 });
    const now = new Date();
    // Tenant i spends i cents; 7 of the last ones are past 80% of theirs, 2 past 100%.
    for (let i = 1; i <= 500; i++) await views.spend.record('m', `T${i}`, i / 100, now);
    for (let i = 1; i <= 7; i++) await views.spend.record('m', `T${i}`, i <= 2 ? 10 : 8.5, now);
    const o = await overview(views, now);
    const expectedTop = [...Array.from({ length: 7 }, (_, i) => `T${i + 1}`), ...Array.from({ length: 13 }, (_, i) => `T${500 - i}`)];
    expect(Object.keys(o.spend.today.byTenant).sort()).toEqual(expectedTop.sort());
    const shownUsd = Object.values(o.spend.today.byTenant).reduce((a, b) => a + b, 0);
    expect(o.spend.today.otherTenants.count).toBe(480);
    expect(o.spend.today.otherTenants.totalUsd + shownUsd).toBeCloseTo(o.spend.today.totalUsd, 6);
    // The overall budget, then the 20 tenant budgets nearest their limit; the others counted by state.
    expect(o.budgets[0]).toMatchObject({ scope: 'overall', period: 'day' });
    const tenantBudgets = o.budgets.filter((b) => b.scope === 'tenant');
    expect(tenantBudgets).toHaveLength(OVERVIEW_TENANTS);
    expect(tenantBudgets.filter((b) => b.state === 'exceeded').map((b) => b.tenant).sort()).toEqual(['T1', 'T2']);
    expect(tenantBudgets.filter((b) => b.state === 'warning')).toHaveLength(5);
    expect(o.otherBudgets).toEqual({ count: 480, warning: 0, exceeded: 0 });
    // The Budgets tab: the 100 nearest their limit, and the other 400 counted.
    const tab = await budgets(views, now);
    expect(tab.budgets.filter((b) => b.scope === 'tenant')).toHaveLength(100);
    expect(tab.otherBudgets).toEqual({ count: 400, warning: 0, exceeded: 0 });
  });

  it('with few tenants, sends them all in their order, and says none were left out', async () => {
    const views = deps({ tenantDayUsd: 1 });
    const now = new Date();
    await views.spend.record('m', 'A', 0.5, now);
    await views.spend.record('m', undefined, 0.25, now);
    const o = await overview(views, now);
    expect(o.spend.today).toEqual({ totalUsd: 0.75, byModel: { m: 0.75 }, byTenant: { A: 0.5, '-': 0.25 }, otherTenants: { count: 0, totalUsd: 0 } });
    expect(o.budgets.map((b) => b.tenant)).toEqual(['A', '-']);
    expect(o.otherBudgets).toEqual({ count: 0, warning: 0, exceeded: 0 });
  });

  it('before any tenant spent, no tenant budget to list, but the limits say a per-tenant budget of $0 is set', async () => {
    const o = await overview(deps({ tenantDayUsd: 0 }), new Date());
    expect(o.budgets).toEqual([]);
    expect(o.limits).toEqual({ tenantDayUsd: 0 });
    expect((await overview(deps({}), new Date())).limits).toEqual({});
  });
});
