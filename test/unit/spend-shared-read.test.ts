/**
 * Reading every tenant's spend counters (on DynamoDB, 100,000 tenants are some 2,000 read units
 * and a second of CPU) is done once for a process's console overviews, Budgets tab and gauges
 * within SPEND_SHARED_MS, and not at all for the gauges when no tenant limit needs it. This
 * process's own spend shows at once; another process's within the window. Time is a fake clock.
 */
import { describe, expect, it } from 'vitest';
import { overview, type ViewDeps } from '../../src/console/views.js';
import { loadConfig } from '../../src/index.js';
import { BudgetLimits } from '../../src/ops/budget-limits.js';
import { Monitor } from '../../src/ops/monitor.js';
import { Spend, SPEND_SHARED_MS } from '../../src/ops/spend.js';
import { MemoryTally, type Tally } from '../../src/ops/tally.js';
import { metricValue, opsParts, quietLogger, type Limits } from '../helpers/ops.js';

/** A MemoryTally that notes each read of a whole spend key (every tenant's counters). */
function countingTally(): Tally & { wholeReads: string[]; gate?: Promise<void> } {
  const inner = new MemoryTally();
  const counting: Tally & { wholeReads: string[]; gate?: Promise<void> } = {
    wholeReads: [],
    add: (key, amounts, ttlMs) => inner.add(key, amounts, ttlMs),
    async read(key, fields) {
      if (!fields && key.startsWith('parley:spend:')) counting.wholeReads.push(key);
      await counting.gate;
      return inner.read(key, fields);
    },
  };
  return counting;
}

function parts(limits: Limits) {
  const tally = countingTally();
  const ops = opsParts({ limits, tally });
  const deps: ViewDeps = {
    ...ops,
    limits: new BudgetLimits(ops.store, limits, quietLogger),
    budget: { policy: 'notice', ...limits } as ViewDeps['budget'],
    alertWebhook: false,
    counts: async () => ({ waiting: 0, active: 0, delayed: 0, dead: 0 }),
    breakers: async () => ({ state: 'closed', processes: {} }),
  };
  const monitor = new Monitor({ config: loadConfig({ LOG_LEVEL: 'silent' }).alerts, ...ops, logger: quietLogger, circuit: () => 'closed' });
  return { ...ops, tally, deps, monitor };
}

describe('the spend counters read for the console and the gauges', () => {
  it('without a tenant limit, the gauges read only the totals, not every tenant', async () => {
    const { tally, spend, monitor, metrics } = parts({ dayUsd: 10 });
    for (let i = 0; i < 50; i++) await spend.record('m', `T${i}`, 0.1);
    await monitor.check();
    expect(tally.wholeReads).toEqual([]);
    expect(await metricValue(metrics, 'parley_ai_budget_spent_usd', { period: 'day' })).toBeCloseTo(5, 9);
    expect(await metricValue(metrics, 'parley_ai_budget_spent_usd', { period: 'month' })).toBeCloseTo(5, 9);
  });

  it('one read serves every open console and the gauges; this process\'s own spend shows at once', async () => {
    const { tally, spend, monitor, metrics, deps } = parts({ tenantDayUsd: 1 });
    await spend.record('m', 'T1', 0.5);
    const [a, b] = await Promise.all([overview(deps), overview(deps)]);
    await monitor.check();
    await overview(deps);
    expect(tally.wholeReads).toHaveLength(2); // the day's and the month's, once
    expect(a.spend.today.byTenant).toEqual({ T1: 0.5 });
    expect(b.spend.today.byTenant).toEqual({ T1: 0.5 });
    expect(await metricValue(metrics, 'parley_ai_budget_tenant_max_ratio', { period: 'day' })).toBe(0.5);
    await spend.record('m', 'T2', 0.25);
    expect((await overview(deps)).spend.today).toMatchObject({ totalUsd: 0.75, byTenant: { T1: 0.5, T2: 0.25 } });
    expect(tally.wholeReads).toHaveLength(2);
  });

  it("another process's spend shows once the shared read is SPEND_SHARED_MS old", async () => {
    const tally = new MemoryTally();
    let now = 1_000_000;
    const here = new Spend(tally, {}, undefined, () => now);
    const elsewhere = new Spend(tally, {});
    await here.record('m', 'T1', 1);
    expect((await here.state()).summary.today.totalUsd).toBe(1);
    await elsewhere.record('m', 'T2', 2);
    now += SPEND_SHARED_MS - 1;
    expect((await here.state()).summary.today.totalUsd).toBe(1);
    now += 1;
    expect((await here.state()).summary.today).toMatchObject({ totalUsd: 3, byTenant: { T1: 1, T2: 2 } });
    // The Budgets tab (statuses) and summary() read now.
    await elsewhere.record('m', 'T2', 4);
    expect((await here.summary()).today.totalUsd).toBe(7);
  });

  it('a read under way while this process adds is not handed to a later caller (it may lack the add)', async () => {
    const { tally, spend } = parts({});
    await spend.record('m', 'T1', 1);
    let release!: () => void;
    tally.gate = new Promise((resolve) => (release = resolve));
    const during = spend.state();
    await spend.record('m', 'T1', 2);
    release();
    tally.gate = undefined;
    await during;
    expect((await spend.state()).summary.today.byTenant).toEqual({ T1: 3 });
    // A failed add may have counted in part: the next caller reads again too.
    const reads = tally.wholeReads.length;
    tally.add = () => Promise.reject(new Error('down'));
    await expect(spend.record('m', 'T1', 4)).rejects.toThrow('down');
    await spend.state();
    expect(tally.wholeReads.length).toBe(reads + 2);
  });

  it('the states are made once per read and limits; an answer here changes them in place, as a new read would show them', async () => {
    const limits = { dayUsd: 10, monthUsd: 100, tenantDayUsd: 1, tenantMonthUsd: 5 };
    const { tally, spend } = parts(limits);
    for (let i = 0; i < 5; i++) await spend.record('m', `T${i}`, 0.5);
    const first = await spend.state();
    expect(await spend.state()).toBe(first);
    await spend.record('m2', 'T1', 0.375); // a tenant that spent before, past 80% of its day
    await spend.record('m', 'NEW', 1); // a new one, its day spent
    await spend.record('m', undefined, 0.25);
    const patched = await spend.state();
    expect(patched).toBe(first);
    expect(tally.wholeReads).toHaveLength(2);
    const fresh = await new Spend(tally, limits).state();
    const sorted = (s: typeof fresh) => ({ ...s, statuses: [...s.statuses].sort((a, b) => `${a.scope}${a.tenant}${a.period}`.localeCompare(`${b.scope}${b.tenant}${b.period}`)) });
    expect(sorted(patched)).toEqual(sorted(fresh));
    expect(patched.statuses.filter((s) => s.state !== 'ok').map((s) => [s.tenant, s.period, s.state])).toEqual(expect.arrayContaining([['T1', 'day', 'warning'], ['NEW', 'day', 'exceeded']]));
  });
});
