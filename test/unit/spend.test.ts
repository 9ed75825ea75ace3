/**
 * AI spend per UTC day and month (Spend over a MemoryTally), the budgets' states, and the budget
 * alerts (Alerts over a MemoryStore) posted to a local fake of a Slack incoming webhook.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createMetrics } from '../../src/observe/index.js';
import { Alerts, POST_RETRY } from '../../src/ops/alerts.js';
import { MemoryStore } from '../../src/store/index.js';
import { NO_TENANT, Spend } from '../../src/ops/spend.js';
import { startFakeCallback, type FakeCallback } from '../fakes/callback-server.js';
import { metricValue, opsParts, postedTexts, webhookPosts } from '../helpers/ops.js';
import { until } from '../helpers/until.js';

const day = (iso: string) => new Date(iso);

let webhook: FakeCallback;
beforeEach(async () => {
  webhook = await startFakeCallback();
});
afterEach(async () => {
  await webhook.close();
});

describe('Spend: the budget check', () => {
  it('reads no counters when no budget is set, though the configuration has a policy and a notice', async () => {
    const reads: string[] = [];
    const tally = { add: async () => ({}), read: async (key: string) => (reads.push(key), {}) };
    const spend = new Spend(tally, { policy: 'notice', notice: 'Spent.' } as ConstructorParameters<typeof Spend>[1]);
    expect(spend.budgeted).toBe(false);
    expect(await spend.exceeded('T1')).toBeUndefined();
    expect(reads).toEqual([]);
    const capped = new Spend(tally, { dayUsd: 5, policy: 'notice', notice: 'Spent.' } as ConstructorParameters<typeof Spend>[1]);
    expect(await capped.exceeded('T1')).toBeUndefined();
    expect(reads).toHaveLength(2); // today's and this month's counters
  });

  it('a $0 limit is spent while the counters cannot be read too; any other limit cannot be checked then (it throws)', async () => {
    const tally = { add: async () => ({}), read: () => Promise.reject(new Error('the store is down')) };
    const stopped = new Spend(tally, { dayUsd: 5, tenantDayUsd: 0 });
    expect(await stopped.exceeded('T1')).toMatchObject({ scope: 'tenant', tenant: 'T1', period: 'day', limitUsd: 0, state: 'exceeded' });
    await expect(new Spend(tally, { dayUsd: 5 }).exceeded('T1')).rejects.toThrow('the store is down');
  });

  it('check says whether the spend was read: not with no limit set, nor for a $0 limit while it cannot be read', async () => {
    const down = { add: async () => ({}), read: () => Promise.reject(new Error('the store is down')) };
    expect(await new Spend(down, {}).check('T1')).toEqual({ read: false });
    expect(await new Spend(down, { tenantDayUsd: 0 }).check('T1')).toMatchObject({ over: { scope: 'tenant', limitUsd: 0 }, read: false });
    const up = { add: async () => ({}), read: async () => ({}) };
    expect(await new Spend(up, { dayUsd: 5 }).check('T1')).toEqual({ read: true });
    expect(await new Spend(up, { dayUsd: 0 }).check('T1')).toMatchObject({ over: { scope: 'overall', limitUsd: 0 }, read: true });
  });
});

describe('Spend: what was spent', () => {
  it('sums by model and by tenant, today and this month', async () => {
    const { spend } = opsParts();
    const now = day('2026-05-20T10:00:00Z');
    await spend.record('gpt-4o-mini', 'T1', 0.25, now);
    await spend.record('gpt-4o', 'T1', 1.5, now);
    await spend.record('gpt-4o-mini', undefined, 0.125, now);
    await spend.record('gpt-4o', 'T2', 0, now); // nothing spent (a cached answer): not counted
    expect(await spend.summary(now)).toEqual({
      today: { totalUsd: 1.875, byModel: { 'gpt-4o-mini': 0.375, 'gpt-4o': 1.5 }, byTenant: { T1: 1.75, [NO_TENANT]: 0.125 } },
      month: { totalUsd: 1.875, byTenant: { T1: 1.75, [NO_TENANT]: 0.125 } },
    });
  });

  it('days and months are UTC: a record late on March 31st in New York is April 1st', async () => {
    const { spend } = opsParts();
    await spend.record('m', 'T', 2, day('2026-03-31T23:30:00-05:00'));
    await spend.record('m', 'T', 1, day('2026-03-31T12:00:00Z'));
    const april = await spend.summary(day('2026-04-01T00:00:00Z'));
    expect(april.today.totalUsd).toBe(2);
    expect(april.month.totalUsd).toBe(2);
    const march = await spend.summary(day('2026-03-31T23:59:59Z'));
    expect(march.today.totalUsd).toBe(1);
    expect(march.month.totalUsd).toBe(1);
  });

  it('a new day starts at zero; the month keeps counting', async () => {
    const { spend } = opsParts();
    await spend.record('m', 'T', 3, day('2026-05-20T23:59:00Z'));
    await spend.record('m', 'T', 4, day('2026-05-21T00:01:00Z'));
    const summary = await spend.summary(day('2026-05-21T12:00:00Z'));
    expect(summary.today.totalUsd).toBe(4);
    expect(summary.month).toEqual({ totalUsd: 7, byTenant: { T: 7 } });
  });
});

describe('Spend: budget states', () => {
  const now = day('2026-05-20T10:00:00Z');

  it('ok below 80%, warning from 80%, exceeded from 100%', async () => {
    const { spend } = opsParts({ limits: { dayUsd: 100 } });
    const state = async () => (await spend.statuses(now)).map((s) => [s.scope, s.period, s.state, s.spentUsd, s.ratio]);
    await spend.record('m', undefined, 79, now);
    expect(await state()).toEqual([['overall', 'day', 'ok', 79, 0.79]]);
    await spend.record('m', undefined, 1, now);
    expect(await state()).toEqual([['overall', 'day', 'warning', 80, 0.8]]);
    await spend.record('m', undefined, 19, now);
    expect(await state()).toEqual([['overall', 'day', 'warning', 99, 0.99]]);
    await spend.record('m', undefined, 1, now);
    expect(await state()).toEqual([['overall', 'day', 'exceeded', 100, 1]]);
  });

  it('exactly 80% of a budget is a warning, though the sum of prices is a binary fraction (0.0096 / 0.012)', async () => {
    const { spend } = opsParts({ limits: { dayUsd: 0.012 } });
    await spend.record('m', undefined, 0.0048, now);
    await spend.record('m', undefined, 0.0048, now);
    expect((await spend.statuses(now)).map((s) => s.state)).toEqual(['warning']);
  });

  it('every budget set, for each tenant that spent this month, with its period key', async () => {
    const { spend } = opsParts({ limits: { dayUsd: 100, monthUsd: 1000, tenantDayUsd: 10, tenantMonthUsd: 50 } });
    await spend.record('m', 'A', 8, now);
    await spend.record('m', 'B', 45, day('2026-05-19T10:00:00Z'));
    expect(await spend.statuses(now)).toEqual([
      { scope: 'overall', period: 'day', periodKey: '2026-05-20', limitUsd: 100, spentUsd: 8, ratio: 0.08, state: 'ok' },
      { scope: 'overall', period: 'month', periodKey: '2026-05', limitUsd: 1000, spentUsd: 53, ratio: 0.053, state: 'ok' },
      { scope: 'tenant', tenant: 'A', period: 'day', periodKey: '2026-05-20', limitUsd: 10, spentUsd: 8, ratio: 0.8, state: 'warning' },
      { scope: 'tenant', tenant: 'A', period: 'month', periodKey: '2026-05', limitUsd: 50, spentUsd: 8, ratio: 0.16, state: 'ok' },
      { scope: 'tenant', tenant: 'B', period: 'day', periodKey: '2026-05-20', limitUsd: 10, spentUsd: 0, ratio: 0, state: 'ok' },
      { scope: 'tenant', tenant: 'B', period: 'month', periodKey: '2026-05', limitUsd: 50, spentUsd: 45, ratio: 0.9, state: 'warning' },
    ]);
  });

  it("exceeded(tenant): the tenant's own budget stops only that tenant; the overall one stops everybody", async () => {
    const { spend } = opsParts({ limits: { dayUsd: 100, tenantDayUsd: 10 } });
    await spend.record('m', 'A', 10, now);
    expect(await spend.exceeded('A', now)).toMatchObject({ scope: 'tenant', tenant: 'A', period: 'day', state: 'exceeded' });
    expect(await spend.exceeded('B', now)).toBeUndefined();
    expect(await spend.exceeded(undefined, now)).toBeUndefined();
    // Messages without a tenant share one tenant budget.
    await spend.record('m', undefined, 10, now);
    expect(await spend.exceeded(undefined, now)).toMatchObject({ scope: 'tenant', tenant: NO_TENANT });
    await spend.record('m', 'C', 9, now);
    expect(await spend.exceeded('C', now)).toBeUndefined();
    await spend.record('m', 'D', 71, now);
    expect(await spend.exceeded('B', now)).toMatchObject({ scope: 'overall', period: 'day', spentUsd: 100 });
    // Tomorrow is another day.
    expect(await spend.exceeded('A', day('2026-05-21T00:00:00Z'))).toBeUndefined();
  });

  it('a month budget holds across days', async () => {
    const { spend } = opsParts({ limits: { monthUsd: 10 } });
    await spend.record('m', 'A', 6, day('2026-05-01T10:00:00Z'));
    await spend.record('m', 'A', 4, day('2026-05-02T10:00:00Z'));
    expect(await spend.exceeded('Z', day('2026-05-31T23:59:00Z'))).toMatchObject({ scope: 'overall', period: 'month', periodKey: '2026-05' });
    expect(await spend.exceeded('Z', day('2026-06-01T00:00:00Z'))).toBeUndefined();
  });

  it('without any budget nothing is ever exceeded, and spend is still counted', async () => {
    const { spend } = opsParts();
    expect(spend.budgeted).toBe(false);
    await spend.record('m', 'A', 1e9, now);
    expect(await spend.exceeded('A', now)).toBeUndefined();
    expect(await spend.statuses(now)).toEqual([]);
    expect((await spend.summary(now)).today.totalUsd).toBe(1e9);
  });
});

describe('Spend: budget alerts', () => {
  const now = day('2026-05-20T10:00:00Z');

  it('crossing 80% posts one warning, 100% one "exceeded", however many answers follow', async () => {
    const { spend, alerts, metrics } = opsParts({ limits: { dayUsd: 100 }, webhookUrl: webhook.url });
    for (const usd of [50, 29]) await spend.record('m', undefined, usd, now);
    await alerts.settled();
    expect(webhook.calls).toHaveLength(0);
    for (const usd of [1, 5, 5]) await spend.record('m', undefined, usd, now);
    await alerts.settled();
    expect(webhookPosts(webhook)).toEqual([{ text: 'parley: 80% of the daily AI budget is spent: $80.00 of $100.00 (UTC day 2026-05-20).' }]);
    for (const usd of [5, 5, 1, 30]) await spend.record('m', undefined, usd, now);
    await spend.exceeded(undefined, now);
    await alerts.settled();
    expect(postedTexts(webhook)).toEqual([
      'parley: 80% of the daily AI budget is spent: $80.00 of $100.00 (UTC day 2026-05-20).',
      'parley: the daily AI budget is spent (100%): $100.00 of $100.00 (UTC day 2026-05-20).',
    ]);
    expect(webhook.calls[0]!.headers['content-type']).toBe('application/json');
    expect(await metricValue(metrics, 'parley_alerts_total', { kind: 'budget_warning' })).toBe(1);
    expect(await metricValue(metrics, 'parley_alerts_total', { kind: 'budget_exceeded' })).toBe(1);
    expect((await alerts.recent()).map((a) => [a.kind, a.delivered])).toEqual([
      ['budget_exceeded', true],
      ['budget_warning', true],
    ]);
  });

  it('jumping past 100% at once posts only "exceeded", never a warning after it', async () => {
    const { spend, alerts } = opsParts({ limits: { dayUsd: 1 }, webhookUrl: webhook.url });
    await spend.record('m', undefined, 0.5, now);
    await spend.record('m', undefined, 0.75, now);
    for (let i = 0; i < 5; i++) await spend.record('m', undefined, 0.01, now);
    await alerts.settled();
    expect(postedTexts(webhook)).toEqual(['parley: the daily AI budget is spent (100%): $1.25 of $1.00 (UTC day 2026-05-20).']);
  });

  it('a budget raised during its period (a restart with the new limit) warns and says "spent" again when the new one is crossed', async () => {
    const before = opsParts({ limits: { dayUsd: 1 }, webhookUrl: webhook.url });
    await before.spend.record('m', undefined, 1.5, now);
    await before.alerts.settled();
    // The same store and counters (Redis), the budget doubled.
    const after = opsParts({ limits: { dayUsd: 2 }, webhookUrl: webhook.url, store: before.store, tally: before.tally });
    await after.spend.record('m', undefined, 0.2, now);
    await after.spend.record('m', undefined, 0.4, now);
    await after.alerts.settled();
    expect(postedTexts(webhook)).toEqual([
      'parley: the daily AI budget is spent (100%): $1.50 of $1.00 (UTC day 2026-05-20).',
      'parley: 85% of the daily AI budget is spent: $1.70 of $2.00 (UTC day 2026-05-20).',
      'parley: the daily AI budget is spent (100%): $2.10 of $2.00 (UTC day 2026-05-20).',
    ]);
  });

  it('a tiny budget (AI_BUDGET_USD_PER_DAY=0.0000001) and small spends read as dollars with their digits, never in exponent form', async () => {
    const { spend, alerts } = opsParts({ limits: { dayUsd: 0.0000001, monthUsd: 0.05 }, webhookUrl: webhook.url });
    await spend.record('m', undefined, 0.00015, now);
    await alerts.settled();
    expect(postedTexts(webhook).sort()).toEqual([
      'parley: the daily AI budget is spent (100%): $0.00015 of $0.0000001 (UTC day 2026-05-20).',
    ]);
    await spend.record('m', undefined, 0.03985, now);
    await spend.record('m', undefined, 1234.5, day('2026-05-21T10:00:00Z'));
    await alerts.settled();
    expect(postedTexts(webhook).slice(1).sort()).toEqual([
      'parley: 80% of the monthly AI budget is spent: $0.0400 of $0.0500 (UTC month 2026-05).',
      'parley: the daily AI budget is spent (100%): $1,234.50 of $0.0000001 (UTC day 2026-05-21).',
      'parley: the monthly AI budget is spent (100%): $1,234.54 of $0.0500 (UTC month 2026-05).',
    ]);
    for (const text of postedTexts(webhook)) expect(text).not.toMatch(/\de[-+]?\d/);
  });

  it("each budget and period has its own episodes: a tenant's, the month's, the next day's", async () => {
    const { spend, alerts } = opsParts({ limits: { dayUsd: 100, monthUsd: 200, tenantDayUsd: 10 }, webhookUrl: webhook.url });
    await spend.record('m', 'acme', 12, now);
    await spend.record('m', 'acme', 1, now);
    await spend.record('m', 'acme', 90, now);
    await spend.record('m', 'acme', 60, day('2026-05-21T10:00:00Z'));
    await alerts.settled();
    expect(postedTexts(webhook).sort()).toEqual(
      [
        // May 20th: acme's day at once past 100%; then the overall day past 100% (103 of 100).
        'parley: the daily AI budget of tenant acme is spent (100%): $12.00 of $10.00 (UTC day 2026-05-20).',
        'parley: the daily AI budget is spent (100%): $103.00 of $100.00 (UTC day 2026-05-20).',
        // May 21st: acme's new day past 100% again, and the month at 163 of 200.
        'parley: the daily AI budget of tenant acme is spent (100%): $60.00 of $10.00 (UTC day 2026-05-21).',
        'parley: 81% of the monthly AI budget is spent: $163.00 of $200.00 (UTC month 2026-05).',
      ].sort(),
    );
  });
});

describe('Alerts: the webhook', () => {
  const alert = (episode: string) => ({ kind: 'test_alert', episode, ttlMs: 60_000, text: `parley: test ${episode}` });

  it('one post per episode, Slack incoming-webhook JSON', async () => {
    const { alerts } = opsParts({ webhookUrl: webhook.url });
    expect(await alerts.raise(alert('one'))).toBe(true);
    expect(await alerts.raise(alert('one'))).toBe(false);
    expect(await alerts.raise(alert('two'))).toBe(true);
    await alerts.settled();
    expect(webhook.calls.map((c) => c.raw)).toEqual(['{"text":"parley: test one"}', '{"text":"parley: test two"}']);
  });

  it('a webhook answering 500 is tried again; delivered once it takes it', async () => {
    webhook.script((_call, n) => (n === 0 ? { status: 500 } : undefined));
    const { alerts } = opsParts({ webhookUrl: webhook.url });
    await alerts.raise(alert('flaky'));
    await alerts.settled();
    expect(webhook.calls).toHaveLength(2);
    expect(webhookPosts(webhook)).toEqual([{ text: 'parley: test flaky' }, { text: 'parley: test flaky' }]);
    expect(await alerts.recent()).toEqual([{ kind: 'test_alert', text: 'parley: test flaky', at: expect.any(String), delivered: true }]);
  });

  it('a webhook that never takes it: tried again (POST_RETRY: for half a minute or more), then recorded as not delivered', async () => {
    webhook.script(() => ({ status: 503 }));
    const { alerts } = opsParts({ webhookUrl: webhook.url, postRetry: { attempts: 5, initialDelayMs: 5 } });
    await alerts.raise(alert('down'));
    await alerts.settled();
    expect(webhook.calls).toHaveLength(5);
    expect((await alerts.recent()).map((a) => a.delivered)).toEqual([false]);
    expect(POST_RETRY.attempts).toBe(8);
  });

  it('a webhook that refuses it (404: gone, 403: a wrong key) is not tried again; 408 and 429 are', async () => {
    for (const [status, calls] of [[404, 1], [403, 1], [408, 3], [429, 3]] as const) {
      webhook.calls.length = 0;
      webhook.script(() => ({ status }));
      const { alerts } = opsParts({ webhookUrl: webhook.url, postRetry: { attempts: 3, initialDelayMs: 5 } });
      await alerts.raise(alert(`refused ${status}`));
      await alerts.settled();
      expect([status, webhook.calls.length]).toEqual([status, calls]);
      expect((await alerts.recent()).map((a) => a.delivered)).toEqual([false]);
    }
  });

  it('stopping cuts a wait between tries short: the alert is recorded as not delivered, with the reason logged', async () => {
    webhook.script(() => ({ status: 503 }));
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const store = new MemoryStore();
    // A long wait between tries (an hour asked for, 15 s at most): stop() ends it.
    const alerts = new Alerts({ webhookUrl: webhook.url, store, metrics: createMetrics(), logger, postRetry: { attempts: 3, initialDelayMs: 3_600_000 } });
    await alerts.raise(alert('stopped'));
    await until(() => webhook.calls.length === 1 || undefined, 'the first try');
    await alerts.stop();
    expect(webhook.calls).toHaveLength(1);
    expect((await alerts.recent()).map((a) => a.delivered)).toEqual([false]);
    expect(lines.filter((line) => line.level === 50).map((line) => [line.msg, line.err])).toEqual([['could not post the alert to ALERT_WEBHOOK_URL', 'the process stopped before the webhook took it']]);
  });

  it('each alert is logged once, as a warning with its details', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const { store, metrics, tally } = opsParts();
    const spend = new Spend(tally, { dayUsd: 10 }, new Alerts({ store, metrics, logger }));
    for (let i = 0; i < 4; i++) await spend.record('m', 'T', 3, day('2026-05-20T10:00:00Z'));
    expect(lines.map(({ level, alert, scope, period, spentUsd, limitUsd, msg }) => ({ level, alert, scope, period, spentUsd, limitUsd, msg }))).toEqual([
      { level: 40, alert: 'budget_warning', scope: 'overall', period: 'day', spentUsd: 9, limitUsd: 10, msg: 'parley: 90% of the daily AI budget is spent: $9.00 of $10.00 (UTC day 2026-05-20).' },
      { level: 40, alert: 'budget_exceeded', scope: 'overall', period: 'day', spentUsd: 12, limitUsd: 10, msg: 'parley: the daily AI budget is spent (100%): $12.00 of $10.00 (UTC day 2026-05-20).' },
    ]);
  });

  it('without ALERT_WEBHOOK_URL the alert is still recorded (not delivered); recent is newest first', async () => {
    const { alerts } = opsParts();
    await alerts.raise(alert('a'));
    await alerts.settled();
    await alerts.raise(alert('b'));
    await alerts.settled();
    expect((await alerts.recent()).map((a) => [a.text, a.delivered])).toEqual([
      ['parley: test b', false],
      ['parley: test a', false],
    ]);
    expect(await alerts.recent(1)).toHaveLength(1);
  });
});
