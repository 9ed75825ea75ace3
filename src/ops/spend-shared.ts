/**
 * One read of today's and this month's spend counters, shared for a few seconds by a process's
 * callers: every open console's overview (every 2 s each), the Budgets tab and the gauges (every
 * 5 s). With many tenants a read is every tenant's counter (on DynamoDB 100,000 tenants are some
 * 2,000 read units, and the states made from them much CPU), so each caller reading its own
 * multiplied that. Other processes' spend shows within the window; this process's own at once: an
 * add is put into a read that ended before it began (and the state made from it), and a read it
 * overlapped is not handed to later callers (it may lack the add).
 */
import type { Limits } from './budget-limits.js';
import { addToState, type SpendState } from './spend-state.js';

/** A read's counters: today's and this month's. */
export interface PeriodTotals {
  day: Record<string, number>;
  month: Record<string, number>;
}

interface Entry {
  /** The day's and the month's keys it read. */
  periods: string;
  startedAt: number;
  read: Promise<PeriodTotals>;
  totals?: PeriodTotals;
  /** An add of this process overlapped the read: it may lack it, so no later caller gets it. */
  missed: boolean;
  /** The state made from `totals` with the limits of `limits`, and the time it was made for. */
  state?: { limits: string; now: Date; state: SpendState };
}

export class SharedTotals {
  private entry: Entry | undefined;

  constructor(
    private readonly forMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The shared read of `periods` (the day's and the month's keys) while it is fresh or under way (unless `now`), else `load()`'s. */
  get(periods: string, load: () => Promise<PeriodTotals>, now = false): Promise<PeriodTotals> {
    const fresh = now ? undefined : this.fresh(periods);
    if (fresh) return fresh.read;
    const entry: Entry = { periods, startedAt: this.clock(), missed: false, read: Promise.resolve({ day: {}, month: {} }) };
    entry.read = load().then(
      (totals) => (entry.totals = totals),
      (error: unknown) => {
        if (this.entry === entry) this.entry = undefined;
        throw error;
      },
    );
    this.entry = entry;
    return entry.read;
  }

  /** The fresh counters already read (none under way), without reading. */
  peek(periods: string): PeriodTotals | undefined {
    return this.fresh(periods)?.totals;
  }

  /** The state of `totals` (a read `get` gave) under `limits`: made once per read and limits. */
  state(totals: PeriodTotals, limits: Limits, now: Date, make: () => SpendState): SpendState {
    const entry = this.entry;
    if (entry?.totals !== totals) return make();
    const key = JSON.stringify([limits.dayUsd, limits.monthUsd, limits.tenantDayUsd, limits.tenantMonthUsd]);
    if (entry.state?.limits !== key) entry.state = { limits: key, now, state: make() };
    return entry.state.state;
  }

  /**
   * Call before this process adds to the counters; call what it returns once the add is done:
   * with `amounts` (it was counted: put in), or without (it failed, perhaps in part).
   */
  adding(): (periods: string, amounts?: PeriodTotals) => void {
    const before = this.entry;
    const settled = before?.totals !== undefined;
    return (periods, amounts) => {
      const now = this.entry;
      if (!now || now.periods !== periods) return;
      if (now === before && settled && amounts) {
        for (const period of ['day', 'month'] as const) for (const [field, amount] of Object.entries(amounts[period])) now.totals![period][field] = (now.totals![period][field] ?? 0) + amount;
        if (now.state) addToState(now.state.state, now.state.now, amounts);
      } else {
        now.missed = true;
      }
    };
  }

  private fresh(periods: string): Entry | undefined {
    const entry = this.entry;
    return entry && !entry.missed && entry.periods === periods && this.clock() - entry.startedAt < this.forMs ? entry : undefined;
  }
}
