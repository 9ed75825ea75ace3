/**
 * GET /console/api/budgets lists a page of the tenant budgets, not every one: with a tenant limit
 * and 100,000 tenants that is some 200,000 rows (about 20 MB) each time the tab loads.
 */
import type { BudgetStatus, BudgetsView } from './api.js';
import { pageLimitOf } from './page-limit.js';

/** The tenant budgets a page lists unless `limit` says otherwise, and the most it lists. */
export const BUDGETS_PAGE = 100;
export const MAX_BUDGETS_PAGE = 1000;

export interface BudgetQuery {
  /** Only the tenants whose id starts with this (the one named exactly first). */
  tenant?: string;
  limit: number;
}

/** `?tenant=<id or its start>&limit=<n>`: limit held within 1…1000 (a fraction rounds down), 100 when absent or not a number. */
export function budgetQueryOf(params: URLSearchParams): BudgetQuery {
  const tenant = params.get('tenant')?.trim() || undefined;
  return { ...(tenant !== undefined ? { tenant } : {}), limit: pageLimitOf(params.get('limit'), BUDGETS_PAGE, MAX_BUDGETS_PAGE) };
}

/**
 * The overall budgets, then at most `limit` tenant budgets of those asked for, nearest their limit
 * first (the tenant named exactly before the others); the rest counted by state.
 */
export function budgetPage(statuses: BudgetStatus[], query: BudgetQuery): Pick<BudgetsView, 'budgets' | 'otherBudgets'> {
  const { tenant: start, limit } = query;
  const asked = statuses.filter((s) => s.scope === 'tenant' && (start === undefined || s.tenant?.startsWith(start)));
  const named = (s: BudgetStatus) => (s.tenant === start ? 1 : 0);
  // A copy: `statuses` is the state shared with the overview and the gauges. The sort is stable: ties keep their order.
  const ranked = asked.sort((a, b) => named(b) - named(a) || b.ratio - a.ratio);
  return { budgets: [...statuses.filter((s) => s.scope !== 'tenant'), ...ranked.slice(0, limit)], otherBudgets: countedByState(ranked.slice(limit)) };
}

/** How many budgets, and how many of them are past 80% and past 100%. */
export function countedByState(statuses: BudgetStatus[]): BudgetsView['otherBudgets'] {
  let warning = 0;
  let exceeded = 0;
  for (const s of statuses) {
    if (s.state === 'warning') warning++;
    else if (s.state === 'exceeded') exceeded++;
  }
  return { count: statuses.length, warning, exceeded };
}
