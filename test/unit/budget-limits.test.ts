/**
 * The budget limits set in the console (BudgetLimits over a MemoryStore two "processes" share): the
 * environment's until set, an amount or no limit once set, back to the environment's; another
 * process sees a change once its 5 s cache has passed (Date faked, no waiting), and reads the store
 * at most once per 5 s however many messages ask; one log line per change; a store that cannot be
 * read logged once a minute, not per read; the gauges follow.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/index.js';
import { BudgetLimits, LIMIT_KEY_PREFIX, LIMITS_CACHE_MS } from '../../src/ops/budget-limits.js';
import { Monitor } from '../../src/ops/monitor.js';
import { MemoryStore, type Store } from '../../src/store/index.js';
import { metricValue, opsParts, quietLogger } from '../helpers/ops.js';

afterEach(() => vi.useRealTimers());

/** A store that counts its reads. */
function counted(store: Store): Store & { reads: number } {
  const wrapped = Object.create(store) as Store & { reads: number };
  wrapped.reads = 0;
  wrapped.get = (key) => (wrapped.reads++, store.get(key));
  return wrapped;
}

function logLines() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>), done()) });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

describe('BudgetLimits', () => {
  it("set, no limit, back to the environment's: the limits in force and where each comes from", async () => {
    const limits = new BudgetLimits(new MemoryStore(), { dayUsd: 20, monthUsd: 400 }, quietLogger);
    expect(await limits.current()).toEqual({ dayUsd: 20, monthUsd: 400 });
    expect(await limits.set('dayUsd', 50)).toMatchObject({ limit: 'dayUsd', variable: 'AI_BUDGET_USD_PER_DAY', oldUsd: 20, newUsd: 50, source: 'console' });
    expect(await limits.set('monthUsd', null)).toMatchObject({ oldUsd: 400, newUsd: null, source: 'console' });
    expect(await limits.set('tenantDayUsd', 0)).toMatchObject({ oldUsd: null, newUsd: 0 });
    expect(await limits.current()).toEqual({ dayUsd: 50, tenantDayUsd: 0 });
    const view = await limits.view();
    expect(view).toMatchObject({ limits: { dayUsd: 50, tenantDayUsd: 0 }, environment: { dayUsd: 20, monthUsd: 400 } });
    expect(view.sources).toEqual({ dayUsd: 'console', monthUsd: 'console', tenantDayUsd: 'console', tenantMonthUsd: 'environment' });
    expect(Object.keys(view.setAt).sort()).toEqual(['dayUsd', 'monthUsd', 'tenantDayUsd']);
    expect(await limits.set('dayUsd', 'environment')).toMatchObject({ oldUsd: 50, newUsd: 20, source: 'environment' });
    expect(await limits.set('monthUsd', 'environment')).toMatchObject({ oldUsd: null, newUsd: 400 });
    expect((await limits.view()).sources.dayUsd).toBe('environment');
    expect(await limits.current()).toEqual({ dayUsd: 20, monthUsd: 400, tenantDayUsd: 0 });
  });

  it('another process applies a change once its cache has passed, reading the store once per 5 s however often it is asked', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const shared = new MemoryStore();
    const here = new BudgetLimits(shared, { dayUsd: 20 }, quietLogger);
    const store = counted(shared);
    const there = new BudgetLimits(store, { dayUsd: 20 }, quietLogger);
    expect(await there.current()).toEqual({ dayUsd: 20 });
    const readsFirst = store.reads;
    await here.set('dayUsd', 75);
    // Within its cache, a hundred budget checks read nothing and still see the old limit.
    for (let i = 0; i < 100; i++) expect(await there.current()).toEqual({ dayUsd: 20 });
    expect(store.reads).toBe(readsFirst);
    vi.setSystemTime(Date.now() + LIMITS_CACHE_MS);
    expect(await Promise.all([there.current(), there.current()])).toEqual([{ dayUsd: 75 }, { dayUsd: 75 }]);
    expect(store.reads).toBe(2 * readsFirst); // one read of the four keys, shared by both asks
    // The process that made the change applies it at once.
    expect(await here.current()).toEqual({ dayUsd: 75 });
  });

  it('keeps the last limits known while the store cannot be read', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new MemoryStore();
    const limits = new BudgetLimits(store, { dayUsd: 20 }, quietLogger);
    await limits.set('dayUsd', 5);
    store.get = () => Promise.reject(new Error('the store is down'));
    vi.setSystemTime(Date.now() + LIMITS_CACHE_MS);
    expect(await limits.current()).toEqual({ dayUsd: 5 });
  });

  it("started while the store cannot be read: the environment's apply, and the console's from the first check a second after it answers (not 5 s later)", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { lines, logger } = logLines();
    const store = new MemoryStore();
    await new BudgetLimits(store, { dayUsd: 100 }, quietLogger).set('dayUsd', 0); // an operator stops spending
    const get = store.get.bind(store);
    store.get = () => Promise.reject(new Error('the store is down'));
    const restarted = new BudgetLimits(store, { dayUsd: 100 }, logger);
    expect(await restarted.current()).toEqual({ dayUsd: 100 });
    expect(await restarted.current()).toEqual({ dayUsd: 100 });
    store.get = get;
    // Within a second of the refusal it does not ask again; a second later it does.
    expect(await restarted.current()).toEqual({ dayUsd: 100 });
    vi.setSystemTime(Date.now() + 1000);
    expect(await restarted.current()).toEqual({ dayUsd: 0 });
    expect(lines[0]).toMatchObject({ level: 40, applied: 'environment' });
    // Once read, a failed read leaves the limits last read, as before.
    store.get = () => Promise.reject(new Error('down again'));
    vi.setSystemTime(Date.now() + LIMITS_CACHE_MS);
    expect(await restarted.current()).toEqual({ dayUsd: 0 });
    expect(lines.at(-1)).toMatchObject({ level: 40, applied: 'last read' });
  });

  it('a store that cannot be read is logged when it starts, then once a minute with how many were left out, and once when it can be read again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { lines, logger } = logLines();
    const store = new MemoryStore();
    const get = store.get.bind(store);
    const limits = new BudgetLimits(store, {}, logger); // no budget set anywhere: it still reads
    expect(await limits.current()).toEqual({});
    const everyRead = async (reads: number) => {
      for (let i = 0; i < reads; i++) {
        vi.setSystemTime(Date.now() + LIMITS_CACHE_MS);
        await limits.current();
      }
    };
    store.get = () => Promise.reject(new Error('the store is down'));
    await everyRead(24); // two minutes of failed reads, one per 5 s
    const unreadable = 'could not read the budget limits set in the console; the last ones known apply (logged once a minute while it lasts)';
    expect(lines.map(({ level, msg, leftOut }) => ({ level, msg, leftOut }))).toEqual([
      { level: 40, msg: unreadable, leftOut: undefined },
      { level: 40, msg: unreadable, leftOut: 11 },
    ]);
    expect(lines[0]!.err).toMatchObject({ message: 'the store is down' });
    store.get = get;
    await everyRead(3);
    expect(lines.slice(2)).toMatchObject([{ level: 30, msg: 'the budget limits set in the console can be read again', unreadableSeconds: 120 }]);
    expect(lines).toHaveLength(3);
    // A new outage is told at once, not held back by the last one's minute.
    store.get = () => Promise.reject(new Error('down again'));
    await everyRead(1);
    expect(lines.slice(3)).toMatchObject([{ level: 40, msg: unreadable }]);
    expect(lines[3]!.leftOut).toBeUndefined();
  });

  it('a change made here while a read is on its way is not undone when that read answers', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new MemoryStore();
    const limits = new BudgetLimits(store, { dayUsd: 20 }, quietLogger);
    const get = store.get.bind(store);
    let answer!: () => void;
    const late = new Promise<void>((resolve) => (answer = resolve));
    // The budget check's read takes the values as they are now and answers late.
    store.get = async (key) => {
      const value = await get(key);
      await late;
      return value;
    };
    const checking = limits.current();
    store.get = get;
    await limits.set('dayUsd', 75);
    answer();
    await checking;
    expect(await limits.current()).toEqual({ dayUsd: 75 });
  });

  it('keeps the override without a TTL under parley:budget:limit:<name>, and deletes it going back', async () => {
    const store = new MemoryStore();
    const set = vi.spyOn(store, 'set');
    const limits = new BudgetLimits(store, {}, quietLogger);
    await limits.set('tenantMonthUsd', 12.5);
    expect(set).toHaveBeenCalledWith(`${LIMIT_KEY_PREFIX}tenantMonthUsd`, expect.stringContaining('"usd":12.5'));
    expect(set.mock.calls[0]).toHaveLength(2);
    await limits.set('tenantMonthUsd', 'environment');
    expect(await store.get(`${LIMIT_KEY_PREFIX}tenantMonthUsd`)).toBeUndefined();
  });

  it('logs one info line per change: which limit, old, new, effective from', async () => {
    const { lines, logger } = logLines();
    const limits = new BudgetLimits(new MemoryStore(), { dayUsd: 20 }, logger);
    await limits.set('dayUsd', 50, new Date('2026-12-06T03:00:00Z'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, limit: 'dayUsd', variable: 'AI_BUDGET_USD_PER_DAY', oldUsd: 20, newUsd: 50, source: 'console', effectiveFrom: '2026-12-06T03:00:00.000Z' });
    expect(lines[0]!.msg).toMatch(/AI_BUDGET_USD_PER_DAY changed from the console; every process applies it within 5 s/);
  });

  it('the budget gauges follow a limit changed in the console: raised, then taken away', async () => {
    const store = new MemoryStore();
    const limits = new BudgetLimits(store, { dayUsd: 5, tenantDayUsd: 1 }, quietLogger);
    const parts = opsParts({ limits, store });
    const monitor = new Monitor({ config: loadConfig({ LOG_LEVEL: 'silent' }).alerts, ...parts, logger: quietLogger, circuit: () => 'closed' });
    await parts.spend.record('gpt-4o-mini', 'T', 0.5);
    await monitor.check();
    expect(await metricValue(parts.metrics, 'parley_ai_budget_limit_usd', { period: 'day' })).toBe(5);
    await limits.set('dayUsd', 8);
    await monitor.check();
    expect(await metricValue(parts.metrics, 'parley_ai_budget_limit_usd', { period: 'day' })).toBe(8);
    expect(await metricValue(parts.metrics, 'parley_ai_budget_tenant_max_ratio', { period: 'day' })).toBe(0.5);
    await limits.set('dayUsd', null);
    await limits.set('tenantDayUsd', null);
    await monitor.check();
    expect(await metricValue(parts.metrics, 'parley_ai_budget_limit_usd', { period: 'day' })).toBeUndefined();
    expect(await metricValue(parts.metrics, 'parley_ai_budget_tenant_max_ratio', { period: 'day' })).toBeUndefined();
  });
});
