/**
 * The budgets' states and the spend summary, made from the day's and the month's counters. With
 * 100,000 tenants making them is some 200,000 objects (a good part of a second of CPU), so a state
 * shared by the console and the gauges takes this process's own adds in place (addToState)
 * rather than being made again after each answer.
 */
import type { BudgetStatus } from '../console/api.js';
import type { Limits } from './budget-limits.js';
import type { PeriodTotals } from './spend-shared.js';

const WARN_AT = 0.8;

export interface SpendSummary {
  today: { totalUsd: number; byModel: Record<string, number>; byTenant: Record<string, number> };
  month: { totalUsd: number; byTenant: Record<string, number> };
}

export interface SpendState {
  summary: SpendSummary;
  statuses: BudgetStatus[];
  limits: Limits;
}

type Period = 'day' | 'month';

/** Where each budget's status is in a state's list (`scope:period:tenant`), to change it in place. */
const places = new WeakMap<SpendState, Map<string, number>>();
const place = (scope: BudgetStatus['scope'], period: Period, tenant = '') => `${scope}:${period}:${tenant}`;

export const dayOf = (at: Date) => at.toISOString().slice(0, 10);
export const monthOf = (at: Date) => at.toISOString().slice(0, 7);

/** One budget's status (undefined: no limit). */
export function statusOf(scope: BudgetStatus['scope'], period: Period, now: Date, limitUsd: number | undefined, spentUsd: number | undefined, tenant?: string): BudgetStatus | undefined {
  if (limitUsd === undefined) return undefined;
  const spent = spentUsd ?? 0;
  // A hair of tolerance: sums of prices are binary fractions (0.0096 / 0.012 is 0.7999999999999999).
  // A limit of $0 (set in the console to stop AI calls) is spent from the start.
  const ratio = limitUsd > 0 ? Math.round((spent / limitUsd) * 1e9) / 1e9 : 1;
  return {
    scope,
    ...(tenant !== undefined ? { tenant } : {}),
    period,
    periodKey: period === 'day' ? dayOf(now) : monthOf(now),
    limitUsd,
    spentUsd: spent,
    ratio,
    state: ratio >= 1 ? 'exceeded' : ratio >= WARN_AT ? 'warning' : 'ok',
  };
}

/** The overall budgets, then each tenant's (day, month) of `tenants`. */
export function statusesOf(limits: Limits, now: Date, totals: PeriodTotals, tenants: string[]): BudgetStatus[] {
  const statuses = [statusOf('overall', 'day', now, limits.dayUsd, totals.day.total), statusOf('overall', 'month', now, limits.monthUsd, totals.month.total)];
  for (const tenant of tenants) statuses.push(...tenantStatuses(limits, now, totals.day[`tenant:${tenant}`], totals.month[`tenant:${tenant}`], tenant));
  return statuses.filter((status): status is BudgetStatus => status !== undefined);
}

/** The summary and every budget's state: overall, and each tenant that spent anything this month. */
export function stateOf(limits: Limits, now: Date, totals: PeriodTotals): SpendState {
  const { day, month } = totals;
  const tenants = Object.keys(month).filter((field) => field.startsWith('tenant:')).map((field) => field.slice('tenant:'.length));
  const state: SpendState = {
    summary: {
      today: { totalUsd: day.total ?? 0, byModel: fieldsStartingWith(day, 'model:'), byTenant: fieldsStartingWith(day, 'tenant:') },
      month: { totalUsd: month.total ?? 0, byTenant: fieldsStartingWith(month, 'tenant:') },
    },
    statuses: statusesOf(limits, now, totals, tenants),
    limits,
  };
  places.set(state, new Map(state.statuses.map((status, i) => [place(status.scope, status.period, status.tenant), i])));
  return state;
}

/** Put one add (the amounts of Spend.record) into a state made by stateOf at `now`'s periods, in place. */
export function addToState(state: SpendState, now: Date, amounts: PeriodTotals): void {
  const { today, month } = state.summary;
  const bump = (record: Record<string, number>, name: string, usd: number) => (record[name] = (record[name] ?? 0) + usd);
  const tenants = new Set<string>();
  const tenant = (field: string) => {
    const name = field.slice('tenant:'.length);
    tenants.add(name);
    return name;
  };
  for (const [field, usd] of Object.entries(amounts.day)) {
    if (field === 'total') today.totalUsd += usd;
    else if (field.startsWith('model:')) bump(today.byModel, field.slice('model:'.length), usd);
    else if (field.startsWith('tenant:')) bump(today.byTenant, tenant(field), usd);
  }
  for (const [field, usd] of Object.entries(amounts.month)) {
    if (field === 'total') month.totalUsd += usd;
    else if (field.startsWith('tenant:')) bump(month.byTenant, tenant(field), usd);
  }
  const at = places.get(state)!;
  const put = (status: BudgetStatus | undefined) => {
    if (!status) return;
    const key = place(status.scope, status.period, status.tenant);
    const i = at.get(key);
    if (i !== undefined) state.statuses[i] = status;
    else at.set(key, state.statuses.push(status) - 1);
  };
  put(statusOf('overall', 'day', now, state.limits.dayUsd, today.totalUsd));
  put(statusOf('overall', 'month', now, state.limits.monthUsd, month.totalUsd));
  // A tenant's statuses are there once it spent this month (as stateOf lists them).
  for (const tenant of tenants) if (month.byTenant[tenant] !== undefined) tenantStatuses(state.limits, now, today.byTenant[tenant], month.byTenant[tenant], tenant).forEach(put);
}

function tenantStatuses(limits: Limits, now: Date, dayUsd: number | undefined, monthUsd: number | undefined, tenant: string): (BudgetStatus | undefined)[] {
  return [statusOf('tenant', 'day', now, limits.tenantDayUsd, dayUsd, tenant), statusOf('tenant', 'month', now, limits.tenantMonthUsd, monthUsd, tenant)];
}

function fieldsStartingWith(hash: Record<string, number>, prefix: string): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const [field, value] of Object.entries(hash)) if (field.startsWith(prefix)) fields[field.slice(prefix.length)] = value;
  return fields;
}
