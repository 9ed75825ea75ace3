/**
 * AI spend per UTC day and month, overall, by model and by tenant, in the shared counters; the
 * budgets read it. Crossing 80% of a budget raises one warning alert, 100% one "exceeded" alert,
 * per budget and period.
 */
import type { BudgetStatus } from '../console/api.js';
import type { Alerts } from './alerts.js';
import type { Limits, LimitsSource } from './budget-limits.js';
import type { Tally } from './tally.js';
import { usd } from './texts.js';

const DAY_TTL_MS = 3 * 24 * 3_600_000;
const MONTH_TTL_MS = 40 * 24 * 3_600_000;
const WARN_AT = 0.8;
/** A message without a tenant (the web chat, one Slack workspace) is counted under this one. */
export const NO_TENANT = '-';

export interface SpendSummary {
  today: { totalUsd: number; byModel: Record<string, number>; byTenant: Record<string, number> };
  month: { totalUsd: number; byTenant: Record<string, number> };
}

export class Spend {
  private readonly source: LimitsSource;
  /** The limits as last read (fixed ones: those). */
  private last: Limits;

  /** `limits`: fixed ones (the bot hands over its whole budget configuration: only the limits are read), or where to read them each time. */
  constructor(
    private readonly tally: Tally,
    limits: Limits | LimitsSource,
    private readonly alerts?: Alerts,
  ) {
    this.last = isSource(limits) ? {} : limitsOf(limits);
    this.source = isSource(limits) ? limits : { current: () => Promise.resolve(this.last) };
  }

  /** Whether any budget was set when the limits were last read (otherwise spend is only counted). */
  get budgeted(): boolean {
    return anyLimit(this.last);
  }

  /** The limits in force now (the console may have changed the environment's). */
  async limits(): Promise<Limits> {
    this.last = await this.source.current();
    return this.last;
  }

  /** Count one answer's cost; raise the alerts for the budgets it crossed. */
  async record(model: string, tenant: string | undefined, usd: number, now = new Date()): Promise<void> {
    if (!(usd > 0)) return;
    const t = tenant ?? NO_TENANT;
    const [day, month] = await Promise.all([
      this.tally.add(dayKey(now), { total: usd, [`model:${model}`]: usd, [`tenant:${t}`]: usd }, DAY_TTL_MS),
      this.tally.add(monthKey(now), { total: usd, [`tenant:${t}`]: usd }, MONTH_TTL_MS),
    ]);
    const statuses = this.statusesOf(await this.limits(), now, { day, month }, [t]);
    await Promise.all(statuses.map((status) => this.alert(status)));
  }

  /** The first budget this tenant's next answer would exceed (undefined: within every budget). */
  async exceeded(tenant: string | undefined, now = new Date()): Promise<BudgetStatus | undefined> {
    const limits = await this.limits();
    if (!anyLimit(limits)) return undefined;
    const t = tenant ?? NO_TENANT;
    // Only the fields this check needs: the hashes hold one field per tenant and model.
    const fields = ['total', `tenant:${t}`];
    const [day, month] = await Promise.all([this.tally.read(dayKey(now), fields), this.tally.read(monthKey(now), fields)]);
    const over = this.statusesOf(limits, now, { day, month }, [t]).find((status) => status.state === 'exceeded');
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

  /** The summary, every budget's state and the limits in force, from one read of the counters (the console's overview, the gauges). */
  async state(now = new Date()): Promise<{ summary: SpendSummary; statuses: BudgetStatus[]; limits: Limits }> {
    const [totals, limits] = await Promise.all([this.read(now), this.limits()]);
    const { day, month } = totals;
    const tenants = Object.keys(month).filter((field) => field.startsWith('tenant:')).map((field) => field.slice('tenant:'.length));
    return {
      summary: {
        today: { totalUsd: day.total ?? 0, byModel: fieldsStartingWith(day, 'model:'), byTenant: fieldsStartingWith(day, 'tenant:') },
        month: { totalUsd: month.total ?? 0, byTenant: fieldsStartingWith(month, 'tenant:') },
      },
      statuses: this.statusesOf(limits, now, totals, tenants),
      limits,
    };
  }

  private async read(now: Date) {
    const [day, month] = await Promise.all([this.tally.read(dayKey(now)), this.tally.read(monthKey(now))]);
    return { day, month };
  }

  private statusesOf(limits: Limits, now: Date, totals: { day: Record<string, number>; month: Record<string, number> }, tenants: string[]): BudgetStatus[] {
    const statuses: BudgetStatus[] = [];
    const add = (scope: 'overall' | 'tenant', period: 'day' | 'month', limitUsd: number | undefined, spentUsd: number | undefined, tenant?: string) => {
      if (limitUsd === undefined) return;
      const spent = spentUsd ?? 0;
      // A hair of tolerance: sums of prices are binary fractions (0.0096 / 0.012 is 0.7999999999999999).
      // A limit of $0 (set in the console to stop AI calls) is spent from the start.
      const ratio = limitUsd > 0 ? Math.round((spent / limitUsd) * 1e9) / 1e9 : 1;
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
    add('overall', 'day', limits.dayUsd, totals.day.total);
    add('overall', 'month', limits.monthUsd, totals.month.total);
    for (const tenant of tenants) {
      add('tenant', 'day', limits.tenantDayUsd, totals.day[`tenant:${tenant}`], tenant);
      add('tenant', 'month', limits.tenantMonthUsd, totals.month[`tenant:${tenant}`], tenant);
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

function isSource(limits: Limits | LimitsSource): limits is LimitsSource {
  return typeof (limits as Partial<LimitsSource>).current === 'function';
}

function limitsOf({ dayUsd, monthUsd, tenantDayUsd, tenantMonthUsd }: Limits): Limits {
  return { dayUsd, monthUsd, tenantDayUsd, tenantMonthUsd };
}

function anyLimit(limits: Limits): boolean {
  return Object.values(limits).some((limit) => limit !== undefined);
}

function fieldsStartingWith(hash: Record<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries(Object.entries(hash).filter(([field]) => field.startsWith(prefix)).map(([field, value]) => [field.slice(prefix.length), value]));
}

const dayOf = (at: Date) => at.toISOString().slice(0, 10);
const monthOf = (at: Date) => at.toISOString().slice(0, 7);
const dayKey = (at: Date) => `parley:spend:day:${dayOf(at)}`;
const monthKey = (at: Date) => `parley:spend:month:${monthOf(at)}`;
