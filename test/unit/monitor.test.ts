/**
 * The condition alerts (Monitor.check called directly, no timers): dead letters piling up, the AI
 * circuit open too long, a spike of refused signatures; and the budget gauges it refreshes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CircuitStateName } from '../../src/ai/index.js';
import { loadConfig } from '../../src/index.js';
import { Monitor } from '../../src/ops/monitor.js';
import { startFakeCallback, type FakeCallback } from '../fakes/callback-server.js';
import { metricValue, opsParts, postedTexts, quietLogger, type Limits } from '../helpers/ops.js';

let webhook: FakeCallback;
beforeEach(async () => {
  webhook = await startFakeCallback();
});
afterEach(async () => {
  await webhook.close();
});

function monitored(env: Record<string, string> = {}, limits: Limits = {}) {
  const parts = opsParts({ limits, webhookUrl: webhook.url });
  const config = loadConfig({ LOG_LEVEL: 'silent', ALERT_WEBHOOK_URL: webhook.url, ...env }).alerts;
  let circuit: CircuitStateName = 'closed';
  const monitor = new Monitor({ config, ...parts, logger: quietLogger, circuit: () => circuit });
  return {
    ...parts,
    monitor,
    setCircuit: (state: CircuitStateName) => (circuit = state),
    /** One round of checks at `now`, then the webhook posts it started. */
    async check(now = Date.now()) {
      await monitor.check(now);
      await parts.alerts.settled();
    },
  };
}

describe('dead letters', () => {
  it('ALERT_DLQ_COUNT within ALERT_DLQ_MINUTES: one alert, not one per check', async () => {
    const { metrics, activity, check } = monitored({ ALERT_DLQ_COUNT: '5', ALERT_DLQ_MINUTES: '10' });
    metrics.deadLettered.inc({ platform: 'web', reason: 'permanent' }, 4);
    await activity.flush();
    await check();
    expect(webhook.calls).toHaveLength(0);
    metrics.deadLettered.inc({ platform: 'web', reason: 'exhausted' });
    await activity.flush();
    await check();
    await check();
    metrics.deadLettered.inc({ platform: 'web', reason: 'exhausted' }, 10);
    await activity.flush();
    await check();
    expect(postedTexts(webhook)).toEqual([
      'parley: 5 messages went to the dead letters in the last 10 minutes (ALERT_DLQ_COUNT=5). See /console#dead-letters to read and replay them.',
    ]);
    expect(await metricValue(metrics, 'parley_alerts_total', { kind: 'dead_letters' })).toBe(1);
  });

  it('one dead letter in one minute (ALERT_DLQ_COUNT=1, ALERT_DLQ_MINUTES=1): "1 message … in the last 1 minute"', async () => {
    const { metrics, activity, check } = monitored({ ALERT_DLQ_COUNT: '1', ALERT_DLQ_MINUTES: '1' });
    metrics.deadLettered.inc({ platform: 'web', reason: 'permanent' });
    await activity.flush();
    await check();
    expect(postedTexts(webhook)).toEqual(['parley: 1 message went to the dead letters in the last 1 minute (ALERT_DLQ_COUNT=1). See /console#dead-letters to read and replay them.']);
  });

  it("an episode's claim that ran out while the checks could not reach the store (15 s of a frozen Redis): the same episode, no second alert; one seen ending starts a new one", async () => {
    const { metrics, activity, store, check } = monitored({ ALERT_DLQ_COUNT: '5', ALERT_DLQ_MINUTES: '10' });
    metrics.deadLettered.inc({ platform: 'web', reason: 'exhausted' }, 6);
    await activity.flush();
    await check();
    expect(webhook.calls).toHaveLength(1);
    // What the claim's 15 s TTL does when no check can hold it (each failed against the store).
    await store.delete('parley:alert:dead_letters:ongoing');
    await check();
    await check();
    expect(webhook.calls).toHaveLength(1);
    // The window moves past them: the episode is seen ending, and the claim runs out.
    await check(Date.now() + 11 * 60_000);
    await store.delete('parley:alert:dead_letters:ongoing');
    await check();
    expect(webhook.calls).toHaveLength(2);
  });

  it('dead letters older than the window do not count', async () => {
    const { metrics, activity, check } = monitored({ ALERT_DLQ_COUNT: '3', ALERT_DLQ_MINUTES: '2' });
    metrics.deadLettered.inc({ platform: 'web', reason: 'permanent' }, 3);
    await activity.flush();
    await check(Date.now() + 2 * 60_000);
    expect(webhook.calls).toHaveLength(0);
    await check(Date.now() + 60_000);
    expect(webhook.calls).toHaveLength(1);
  });
});

describe('the AI circuit breaker', () => {
  it('open longer than ALERT_BREAKER_OPEN_SECONDS: one alert; shorter: none', async () => {
    const { metrics, setCircuit, check } = monitored({ ALERT_BREAKER_OPEN_SECONDS: '120' });
    const t0 = Date.now();
    await check(t0);
    setCircuit('open');
    await check(t0 + 1000);
    expect(await metricValue(metrics, 'parley_ai_circuit_open')).toBe(1);
    setCircuit('half-open'); // its probe let through…
    await check(t0 + 60_000);
    setCircuit('open'); // …and failed: still not answering
    await check(t0 + 120_000);
    await check(t0 + 120_600); // 119.6 s: not yet longer than 120 s
    expect(webhook.calls).toHaveLength(0);
    await check(t0 + 121_000);
    await check(t0 + 200_000);
    expect(postedTexts(webhook)).toEqual([
      "parley: the AI provider's circuit breaker has been open for 120 s (ALERT_BREAKER_OPEN_SECONDS=120); messages are waiting for it.",
    ]);
    setCircuit('closed');
    await check(t0 + 201_000);
    expect(await metricValue(metrics, 'parley_ai_circuit_open')).toBe(0);
  });

  it('half-open with no call to probe it: still open for the gauge and the alert, whose text says the next message tries the provider, not that messages wait', async () => {
    const { metrics, setCircuit, check } = monitored({ ALERT_BREAKER_OPEN_SECONDS: '120' });
    const t0 = Date.now();
    setCircuit('open');
    await check(t0);
    // AI_BREAKER_HALF_OPEN_MS later no message has come: cockatiel lets the next one through, whenever it comes.
    setCircuit('half-open');
    await check(t0 + 30_000);
    expect(await metricValue(metrics, 'parley_ai_circuit_open')).toBe(1);
    await check(t0 + 121_000);
    expect(postedTexts(webhook)).toEqual([
      "parley: the AI provider's circuit breaker has been open for 121 s (ALERT_BREAKER_OPEN_SECONDS=120); it is half-open now: the next message is let through to try the provider again.",
    ]);
    expect(await metricValue(metrics, 'parley_ai_circuit_open')).toBe(1);
  });

  it('closing in between starts the count again', async () => {
    const { setCircuit, check } = monitored({ ALERT_BREAKER_OPEN_SECONDS: '30' });
    const t0 = Date.now();
    setCircuit('open');
    await check(t0);
    setCircuit('closed');
    await check(t0 + 20_000);
    setCircuit('open');
    await check(t0 + 25_000);
    await check(t0 + 50_000);
    expect(webhook.calls).toHaveLength(0);
    await check(t0 + 56_000);
    expect(webhook.calls).toHaveLength(1);
  });
});

describe('signature failures', () => {
  it('ALERT_SIGNATURE_FAILURES_PER_MINUTE refused in a minute: one alert', async () => {
    const { metrics, activity, check } = monitored({ ALERT_SIGNATURE_FAILURES_PER_MINUTE: '30' });
    metrics.webhooksRejected.inc({ platform: 'slack', reason: 'bad_signature' }, 29);
    metrics.webhooksRejected.inc({ platform: 'slack', reason: 'malformed_body' }, 50);
    await activity.flush();
    await check();
    expect(webhook.calls).toHaveLength(0);
    metrics.webhooksRejected.inc({ platform: 'slack', reason: 'bad_signature' }, 11);
    await activity.flush();
    await check();
    await check();
    expect(postedTexts(webhook)).toEqual([
      'parley: 40 webhooks a minute are being refused for a bad signature or timestamp (ALERT_SIGNATURE_FAILURES_PER_MINUTE=30): an attack, or a signing secret rotated on one side only.',
    ]);
  });

  it('one refused webhook a minute (ALERT_SIGNATURE_FAILURES_PER_MINUTE=1): "1 webhook a minute is being refused"', async () => {
    const { metrics, activity, check } = monitored({ ALERT_SIGNATURE_FAILURES_PER_MINUTE: '1' });
    metrics.webhooksRejected.inc({ platform: 'slack', reason: 'bad_signature' });
    await activity.flush();
    await check();
    expect(postedTexts(webhook)).toEqual([
      'parley: 1 webhook a minute is being refused for a bad signature or timestamp (ALERT_SIGNATURE_FAILURES_PER_MINUTE=1): an attack, or a signing secret rotated on one side only.',
    ]);
  });

  it('the previous minute counts too; two minutes ago does not', async () => {
    const { metrics, activity, check } = monitored({ ALERT_SIGNATURE_FAILURES_PER_MINUTE: '10' });
    metrics.webhooksRejected.inc({ platform: 'whatsapp', reason: 'missing_signature' }, 10);
    await activity.flush();
    await check(Date.now() + 2 * 60_000);
    expect(webhook.calls).toHaveLength(0);
    await check(Date.now() + 60_000);
    expect(webhook.calls).toHaveLength(1);
  });
});

describe('budget gauges', () => {
  it('spend today and this month, and the overall limits', async () => {
    const { metrics, spend, check } = monitored({}, { dayUsd: 5, monthUsd: 100, tenantDayUsd: 1 });
    await spend.record('gpt-4o-mini', 'T', 0.5);
    await spend.record('gpt-4o', undefined, 1.25);
    await check();
    expect(await metricValue(metrics, 'parley_ai_budget_spent_usd', { period: 'day' })).toBe(1.75);
    expect(await metricValue(metrics, 'parley_ai_budget_spent_usd', { period: 'month' })).toBe(1.75);
    expect(await metricValue(metrics, 'parley_ai_budget_limit_usd', { period: 'day' })).toBe(5);
    expect(await metricValue(metrics, 'parley_ai_budget_limit_usd', { period: 'month' })).toBe(100);
    const exposition = await metrics.registry.metrics();
    expect(exposition).toMatch(/^parley_ai_budget_limit_usd\{period="day"\} 5$/m);
  });

  it('only per-tenant budgets set: the share spent by the tenant nearest its budget, per period, without a tenant label', async () => {
    const { metrics, spend, check } = monitored({}, { tenantDayUsd: 2, tenantMonthUsd: 10 });
    await spend.record('gpt-4o-mini', 'T1', 0.5);
    await spend.record('gpt-4o-mini', 'T2', 1.8);
    await check();
    expect(await metricValue(metrics, 'parley_ai_budget_tenant_max_ratio', { period: 'day' })).toBeCloseTo(0.9);
    expect(await metricValue(metrics, 'parley_ai_budget_tenant_max_ratio', { period: 'month' })).toBeCloseTo(0.18);
    expect(await metricValue(metrics, 'parley_ai_budget_limit_usd', { period: 'day' })).toBeUndefined();
    expect(await metrics.registry.metrics()).not.toMatch(/tenant="/);
  });

  it('with 150,000 tenants in the period (Math.max(...ratios) overflows the stack past ~125,000), the nearest one is still found', async () => {
    const { metrics, tally, check } = monitored({}, { tenantDayUsd: 2 });
    const now = new Date();
    // The tenants are the month's; one of them spent today.
    const month: Record<string, number> = {};
    for (let i = 0; i < 150_000; i++) month[`tenant:T${i}`] = 0.01;
    await tally.add(`parley:spend:month:${now.toISOString().slice(0, 7)}`, month, 60_000);
    await tally.add(`parley:spend:day:${now.toISOString().slice(0, 10)}`, { 'tenant:T123456': 1.5 }, 60_000);
    await check(now.getTime());
    expect(await metricValue(metrics, 'parley_ai_budget_tenant_max_ratio', { period: 'day' })).toBeCloseTo(0.75);
  }, 60_000); // a large read: seconds on a loaded machine

  it('a per-tenant budget of $0 (AI_BUDGET_USD_PER_TENANT_PER_DAY=0): the tenant ratio is 1, every tenant spent, before any tenant spent anything', async () => {
    const budget = loadConfig({ LOG_LEVEL: 'silent', AI_BUDGET_USD_PER_TENANT_PER_DAY: '0', AI_BUDGET_USD_PER_TENANT_PER_MONTH: '10' }).budget;
    const { metrics, spend, check } = monitored({}, { tenantDayUsd: budget.tenantDayUsd, tenantMonthUsd: budget.tenantMonthUsd });
    // What the budget check says for a tenant that never spent: its $0 budget is spent.
    expect((await spend.exceeded('T1'))?.state).toBe('exceeded');
    await check();
    expect(await metricValue(metrics, 'parley_ai_budget_tenant_max_ratio', { period: 'day' })).toBe(1);
    expect(await metricValue(metrics, 'parley_ai_budget_tenant_max_ratio', { period: 'month' })).toBe(0);
  });

  it('no limit set: spend is reported, no limit gauge', async () => {
    const { metrics, spend, check } = monitored();
    await spend.record('m', undefined, 0.25);
    await check();
    expect(await metricValue(metrics, 'parley_ai_budget_spent_usd', { period: 'day' })).toBe(0.25);
    expect(await metricValue(metrics, 'parley_ai_budget_limit_usd', { period: 'day' })).toBeUndefined();
    expect(await metricValue(metrics, 'parley_ai_budget_tenant_max_ratio', { period: 'day' })).toBeUndefined();
  });
});
