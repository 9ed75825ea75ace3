/**
 * AI spend per UTC day and month, overall, by model and by tenant, in the shared counters; the
 * budgets read it. Crossing 80% of a budget raises one warning alert, 100% one "exceeded" alert,
 * per budget and period.
 */
import type { BudgetStatus } from '../console/api.js';
import type { BudgetConfig } from '../config.js';
import type { Alerts } from './alerts.js';
import type { Tally } from './tally.js';
import { usd } from './texts.js';

const DAY_TTL_MS = 3 * 24 * 3_600_000;
const MONTH_TTL_MS = 40 * 24 * 3_600_000;
const WARN_AT = 0.8;
/** A message without a tenant (the web chat, one Slack workspace) is counted under this one. */
export const NO_TENANT = '-';

type Limits = Pick<BudgetConfig, 'dayUsd' | 'monthUsd' | 'tenantDayUsd' | 'tenantMonthUsd'>;

export interface SpendSummary {
  today: { totalUsd: number; byModel: Record<string, number>; byTenant: Record<string, number> };
  month: { totalUsd: number; byTenant: Record<string, number> };
}

export class Spend {
  constructor(
    private readonly tally: Tally,
    private readonly limits: Limits,
    private readonly alerts?: Alerts,
  ) {}

  /** The per-tenant limit of a period, if one is set. */
  tenantLimit(period: 'day' | 'month'): number | undefined {
    return period === 'day' ? this.limits.tenantDayUsd : this.limits.tenantMonthUsd;
  }

  /** Whether any budget is set (otherwise spend is only counted). */
  get budgeted(): boolean {
    // The limits only: the bot hands over its whole budget configuration (policy and notice too).
    const { dayUsd, monthUsd, tenantDayUsd, tenantMonthUsd } = this.limits;
    return [dayUsd, monthUsd, tenantDayUsd, tenantMonthUsd].some((limit) => limit !== undefined);
  }

  /** Count one answer's cost; raise the alerts for the budgets it crossed. */
  async record(model: string, tenant: string | undefined, usd: number, now = new Date()): Promise<void> {
    if (!(usd > 0)) return;
    const t = tenant ?? NO_TENANT;
    const [day, month] = await Promise.all([
      this.tally.add(dayKey(now), { total: usd, [`model:${model}`]: usd, [`tenant:${t}`]: usd }, DAY_TTL_MS),
      this.tally.add(monthKey(now), { total: usd, [`tenant:${t}`]: usd }, MONTH_TTL_MS),
    ]);
    const statuses = this.statusesOf(now, { day, month }, [t]);
    await Promise.all(statuses.map((status) => this.alert(status)));
  }

  /** The first budget this tenant's next answer would exceed (undefined: within every budget). */
  async exceeded(tenant: string | undefined, now = new Date()): Promise<BudgetStatus | undefined> {
    if (!this.budgeted) return undefined;
    const t = tenant ?? NO_TENANT;
    // Only the fields this check needs: the hashes hold one field per tenant and model.
    const fields = ['total', `tenant:${t}`];
    const [day, month] = await Promise.all([this.tally.read(dayKey(now), fields), this.tally.read(monthKey(now), fields)]);
    const over = this.statusesOf(now, { day, month }, [t]).find((status) => status.state === 'exceeded');
    // The alert is usually raised already; failing to raise it must not lift the budget.
    if (over) await this.alert(over).catch(() => undefined);
    return over;
  }

  /** Every budget's state: overall, and each tenant that spent anything this month. */
  async statuses(now = new Date()): Promise<BudgetStatus[]> {
    return (await this.state(now)).statuses;
  }

  async summary(now = new Date()): Promise<SpendSummary> {
    return (await this.state(now)).summary;
  }

  /** The summary and every budget's state from one read of the counters (the console's overview, the gauges). */
  async state(now = new Date()): Promise<{ summary: SpendSummary; statuses: BudgetStatus[] }> {
    const totals = await this.read(now);
    const { day, month } = totals;
    const tenants = Object.keys(month).filter((field) => field.startsWith('tenant:')).map((field) => field.slice('tenant:'.length));
    return {
      summary: {
        today: { totalUsd: day.total ?? 0, byModel: fieldsStartingWith(day, 'model:'), byTenant: fieldsStartingWith(day, 'tenant:') },
        month: { totalUsd: month.total ?? 0, byTenant: fieldsStartingWith(month, 'tenant:') },
      },
      statuses: this.statusesOf(now, totals, tenants),
    };
  }

  private async read(now: Date) {
    const [day, month] = await Promise.all([this.tally.read(dayKey(now)), this.tally.read(monthKey(now))]);
    return { day, month };
  }

  private statusesOf(now: Date, totals: { day: Record<string, number>; month: Record<string, number> }, tenants: string[]): BudgetStatus[] {
    const statuses: BudgetStatus[] = [];
    const add = (scope: 'overall' | 'tenant', period: 'day' | 'month', limitUsd: number | undefined, spentUsd: number | undefined, tenant?: string) => {
      if (limitUsd === undefined) return;
      const spent = spentUsd ?? 0;
      // A hair of tolerance: sums of prices are binary fractions (0.0096 / 0.012 is 0.7999999999999999).
      const ratio = Math.round((spent / limitUsd) * 1e9) / 1e9;
      statuses.push({
        scope,
        ...(tenant !== undefined ? { tenant } : {}),
        period,
        periodKey: period === 'day' ? dayOf(now) : monthOf(now),
        limitUsd,
        spentUsd: spent,
        ratio,
        state: ratio >= 1 ? 'exceeded' : ratio >= WARN_AT ? 'warning' : 'ok',
      });
    };
    add('overall', 'day', this.limits.dayUsd, totals.day.total);
    add('overall', 'month', this.limits.monthUsd, totals.month.total);
    for (const tenant of tenants) {
      add('tenant', 'day', this.limits.tenantDayUsd, totals.day[`tenant:${tenant}`], tenant);
      add('tenant', 'month', this.limits.tenantMonthUsd, totals.month[`tenant:${tenant}`], tenant);
    }
    return statuses;
  }

  /** One warning per budget (its limit) and period from 80%, one "exceeded" from 100% (which also ends the warning's chance). */
  private async alert(status: BudgetStatus): Promise<void> {
    if (!this.alerts || status.state === 'ok') return;
    // The limit is part of the episode: a budget raised during its period has crossings of its own.
    const episode = `${status.scope}:${status.tenant ?? ''}:${status.periodKey}:${status.limitUsd}`;
    const ttlMs = status.period === 'day' ? DAY_TTL_MS : MONTH_TTL_MS;
    const details = { scope: status.scope, tenant: status.tenant, period: status.period, spentUsd: status.spentUsd, limitUsd: status.limitUsd };
    if (status.state === 'exceeded') {
      await this.alerts.raise({ kind: 'budget_exceeded', episode, ttlMs, text: budgetText(status), details });
      await this.alerts.hold({ kind: 'budget_warning', episode, ttlMs });
    } else {
      await this.alerts.raise({ kind: 'budget_warning', episode, ttlMs, text: budgetText(status), details });
    }
  }
}

function budgetText(status: BudgetStatus): string {
  const which = `${status.period === 'day' ? 'daily' : 'monthly'} AI budget${status.tenant !== undefined ? ` of tenant ${status.tenant}` : ''}`;
  const figures = `${usd(status.spentUsd)} of ${usd(status.limitUsd)} (UTC ${status.period} ${status.periodKey})`;
  return status.state === 'exceeded'
    ? `parley: the ${which} is spent (100%): ${figures}.`
    : `parley: ${Math.floor(status.ratio * 100)}% of the ${which} is spent: ${figures}.`;
}

function fieldsStartingWith(hash: Record<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries(Object.entries(hash).filter(([field]) => field.startsWith(prefix)).map(([field, value]) => [field.slice(prefix.length), value]));
}

const dayOf = (at: Date) => at.toISOString().slice(0, 10);
const monthOf = (at: Date) => at.toISOString().slice(0, 7);
const dayKey = (at: Date) => `parley:spend:day:${dayOf(at)}`;
const monthKey = (at: Date) => `parley:spend:month:${monthOf(at)}`;
