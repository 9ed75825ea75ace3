/**
 * AI spend per UTC day and month, overall, by model and by tenant, in the shared counters; the
 * budgets read it. Crossing 80% of a budget raises one warning alert, 100% one "exceeded" alert,
 * per budget and period.
 */
import type { BudgetStatus } from '../console/api.js';
import type { Alerts } from './alerts.js';
import type { Limits, LimitsSource } from './budget-limits.js';
import { SharedTotals, type PeriodTotals } from './spend-shared.js';
import { dayOf, monthOf, stateOf, statusesOf, type SpendState, type SpendSummary } from './spend-state.js';
import type { Tally } from './tally.js';
import { usd } from './texts.js';
import { UnderWay } from './under-way.js';

export type { SpendState, SpendSummary } from './spend-state.js';

const DAY_TTL_MS = 3 * 24 * 3_600_000;
const MONTH_TTL_MS = 40 * 24 * 3_600_000;
/** How long one read of every counter serves the console and the gauges (the gauges' round; budget limits spread as fast). */
export const SPEND_SHARED_MS = 5000;
/** A message without a tenant (the web chat, one Slack workspace) is counted under this one. */
export const NO_TENANT = '-';

export interface SpendGauges {
  dayUsd: number;
  monthUsd: number;
  limits: Limits;
  /** The highest tenant ratio of each period with a tenant limit. */
  tenantMaxRatio: { day?: number; month?: number };
}

export class Spend {
  private readonly source: LimitsSource;
  /** The limits as last read (fixed ones: those). */
  private last: Limits;
  private readonly shared: SharedTotals;
  /** Counts under way (each answer's is not waited for): a serverless handler waits for them before it is frozen. */
  private readonly recording = new UnderWay();

  /**
   * `limits`: fixed ones (the bot hands over its whole budget configuration: only the limits are
   * read), or where to read them each time. `clock`: what the shared read's age is measured by.
   */
  constructor(
    private readonly tally: Tally,
    limits: Limits | LimitsSource,
    private readonly alerts?: Alerts,
    clock: () => number = Date.now,
  ) {
    this.last = isSource(limits) ? {} : limitsOf(limits);
    this.source = isSource(limits) ? limits : { current: () => Promise.resolve(this.last) };
    this.shared = new SharedTotals(SPEND_SHARED_MS, clock);
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
  record(model: string, tenant: string | undefined, usd: number, now = new Date()): Promise<void> {
    return this.recording.track(this.recordNow(model, tenant, usd, now));
  }

  /** Resolves once every count under way (and the alerts it raised) has been made or has failed. */
  settled(): Promise<void> {
    return this.recording.settled();
  }

  private async recordNow(model: string, tenant: string | undefined, usd: number, now: Date): Promise<void> {
    if (!(usd > 0)) return;
    const t = tenant ?? NO_TENANT;
    const amounts: PeriodTotals = { day: { total: usd, [`model:${model}`]: usd, [`tenant:${t}`]: usd }, month: { total: usd, [`tenant:${t}`]: usd } };
    const added = this.shared.adding();
    const [day, month] = await Promise.all([this.tally.add(dayKey(now), amounts.day, DAY_TTL_MS), this.tally.add(monthKey(now), amounts.month, MONTH_TTL_MS)]).catch((error: unknown) => {
      added(periodsOf(now));
      throw error;
    });
    added(periodsOf(now), amounts);
    const statuses = statusesOf(await this.limits(), now, { day, month }, [t]);
    await Promise.all(statuses.map((status) => this.alert(status)));
  }

  /** The first budget this tenant's next answer would exceed (undefined: within every budget). */
  async exceeded(tenant: string | undefined, now = new Date()): Promise<BudgetStatus | undefined> {
    return (await this.check(tenant, now)).over;
  }

  /**
   * `exceeded`, and whether the spend was read for it (not with no limit set, nor for a $0 limit
   * while the spend cannot be read): what tells the end of an outage. Throws when it cannot be read.
   */
  async check(tenant: string | undefined, now = new Date()): Promise<{ over?: BudgetStatus; read: boolean }> {
    const limits = await this.limits();
    if (!anyLimit(limits)) return { read: false };
    const t = tenant ?? NO_TENANT;
    // Only the fields this check needs: the hashes hold one field per tenant and model.
    const fields = ['total', `tenant:${t}`];
    const totals = await Promise.all([this.tally.read(dayKey(now), fields), this.tally.read(monthKey(now), fields)]).then(
      ([day, month]) => ({ day, month }),
      (error: unknown) => {
        // A $0 limit (the console's way to stop AI calls) is spent whatever the count: it holds while
        // the spend cannot be read too, and is not alerted (the alerts are in the same store). Any
        // other cannot be checked: the caller decides.
        const zero = statusesOf(limits, now, { day: {}, month: {} }, [t]).find((status) => status.state === 'exceeded');
        if (zero) return zero;
        throw error;
      },
    );
    if ('state' in totals) return { over: totals, read: false };
    const over = statusesOf(limits, now, totals, [t]).find((status) => status.state === 'exceeded');
    // The alert is usually raised already; failing to raise it must not lift the budget.
    if (over) await this.alert(over).catch(() => undefined);
    return { ...(over ? { over } : {}), read: true };
  }

  /** Every budget's state: overall, and each tenant that spent anything this month (read now: the Budgets tab). */
  async statuses(now = new Date()): Promise<BudgetStatus[]> {
    return (await this.state(now, true)).statuses;
  }

  /** What was spent (read now). */
  async summary(now = new Date()): Promise<SpendSummary> {
    return (await this.state(now, true)).summary;
  }

  /**
   * The summary, every budget's state and the limits in force, from one read of the counters (the
   * console's overview, the gauges), shared for SPEND_SHARED_MS by this process's callers; `fresh`:
   * read now (and share that read from then on).
   */
  async state(now = new Date(), fresh = false): Promise<SpendState> {
    const [totals, limits] = await Promise.all([this.shared.get(periodsOf(now), () => this.read(now), fresh), this.limits()]);
    return this.shared.state(totals, limits, now, () => stateOf(limits, now, totals));
  }

  /**
   * What the gauges show. Without a tenant limit only the two totals are read (a shared read when
   * one is fresh): every tenant's counters are read only when a tenant limit needs them.
   */
  async gauges(now = new Date()): Promise<SpendGauges> {
    const limits = await this.limits();
    const tenantMaxRatio: SpendGauges['tenantMaxRatio'] = {};
    if (limits.tenantDayUsd === undefined && limits.tenantMonthUsd === undefined) {
      const { day, month } = this.shared.peek(periodsOf(now)) ?? (await this.read(now, ['total']));
      return { dayUsd: day.total ?? 0, monthUsd: month.total ?? 0, limits, tenantMaxRatio };
    }
    const { summary, statuses } = await this.state(now);
    for (const period of ['day', 'month'] as const) {
      const limit = period === 'day' ? limits.tenantDayUsd : limits.tenantMonthUsd;
      if (limit === undefined) continue;
      // A $0 budget is spent from the start (statusOf): every tenant's, those that spent nothing yet (and are not listed) too.
      if (limit === 0) {
        tenantMaxRatio[period] = 1;
        continue;
      }
      // Not Math.max(...ratios): past some 100,000 tenants that many arguments overflow the stack.
      tenantMaxRatio[period] = statuses.reduce((max, s) => (s.scope === 'tenant' && s.period === period && s.ratio > max ? s.ratio : max), 0);
    }
    return { dayUsd: summary.today.totalUsd, monthUsd: summary.month.totalUsd, limits, tenantMaxRatio };
  }

  private async read(now: Date, fields?: string[]): Promise<PeriodTotals> {
    const [day, month] = await Promise.all([this.tally.read(dayKey(now), fields), this.tally.read(monthKey(now), fields)]);
    return { day, month };
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

const dayKey = (at: Date) => `parley:spend:day:${dayOf(at)}`;
const monthKey = (at: Date) => `parley:spend:month:${monthOf(at)}`;
const periodsOf = (at: Date) => `${dayOf(at)} ${monthOf(at)}`;
