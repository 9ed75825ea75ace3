/**
 * Budgets, alerts and traffic per minute shared by two "processes" on a real Redis: each has its
 * own connection, RedisStore, RedisTally, metrics, Spend, Alerts and Activity, as two processes
 * would, and together they post one alert per episode and add into the same minute.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisTally } from '../../src/ops/tally.js';
import { RedisStore } from '../../src/store/index.js';
import { startFakeCallback, type FakeCallback } from '../fakes/callback-server.js';
import { opsParts, postedTexts, type Limits, type OpsParts } from '../helpers/ops.js';
import { uniquePrefix, useRedis } from './redis-helpers.js';

const prefix = uniquePrefix();
const redis = useRedis(prefix);
let webhook: FakeCallback;
let run = 0;

beforeAll(async () => {
  webhook = await startFakeCallback();
});
afterAll(async () => {
  await webhook.close();
});
/** Every test's processes, whose posts under way are waited for before the next test. */
const processes: OpsParts[] = [];
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.alerts.settled()));
  webhook.calls.length = 0;
  vi.useRealTimers();
});

/** Two processes on the same Redis namespace (fresh for each test). */
async function twoProcesses(limits: Limits = {}): Promise<[OpsParts, OpsParts]> {
  const namespace = `${prefix}:${++run}:`;
  const one = async () => {
    const connection = await redis.connection();
    return opsParts({ limits, webhookUrl: webhook.url, store: new RedisStore(connection, namespace), tally: new RedisTally(connection, namespace) });
  };
  const pair: [OpsParts, OpsParts] = [await one(), await one()];
  processes.push(...pair);
  return pair;
}

describe('budgets on Redis, two processes', () => {
  const now = new Date('2026-07-04T12:00:00Z');

  it('spend recorded by either is seen by both', async () => {
    const [a, b] = await twoProcesses({ dayUsd: 10 });
    await a.spend.record('gpt-4o-mini', 'T1', 3, now);
    await b.spend.record('gpt-4o', 'T2', 5, now);
    expect(await a.spend.summary(now)).toEqual(await b.spend.summary(now));
    expect((await b.spend.summary(now)).today).toEqual({ totalUsd: 8, byModel: { 'gpt-4o-mini': 3, 'gpt-4o': 5 }, byTenant: { T1: 3, T2: 5 } });
    expect((await a.spend.statuses(now)).map((s) => s.state)).toEqual(['warning']);
  });

  it('taking turns past 80% and 100%: the webhook gets exactly one post of each', async () => {
    const [a, b] = await twoProcesses({ dayUsd: 10 });
    for (let i = 0; i < 14; i++) await (i % 2 ? a : b).spend.record('m', undefined, 1, now);
    await Promise.all([a.alerts.settled(), b.alerts.settled()]);
    expect(postedTexts(webhook)).toEqual([
      'parley: 80% of the daily AI budget is spent: $8.00 of $10.00 (UTC day 2026-07-04).',
      'parley: the daily AI budget is spent (100%): $10.00 of $10.00 (UTC day 2026-07-04).',
    ]);
    // Both see the alerts in the shared list.
    expect((await a.alerts.recent()).map((r) => r.kind)).toEqual(['budget_exceeded', 'budget_warning']);
    expect(await b.alerts.recent()).toEqual(await a.alerts.recent());
  });

  it('all at once: one "exceeded" post, and never two warnings', async () => {
    const [a, b] = await twoProcesses({ dayUsd: 10 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).spend.record('m', undefined, 0.5, now)));
    await Promise.all([a.spend.exceeded(undefined, now), b.spend.exceeded(undefined, now)]);
    await Promise.all([a.alerts.settled(), b.alerts.settled()]);
    const kinds = postedTexts(webhook).map((text) => (text.includes('(100%)') ? 'exceeded' : 'warning'));
    expect(kinds.filter((k) => k === 'exceeded')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'warning').length).toBeLessThanOrEqual(1);
  });
});

describe('traffic per minute on Redis, two processes', () => {
  it('both add what their own counters gained into the same minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-07-04T12:00:10Z'));
    const [a, b] = await twoProcesses();
    a.metrics.messagesReceived.inc({ platform: 'web' }, 3);
    b.metrics.messagesReceived.inc({ platform: 'slack' }, 4);
    b.metrics.deadLettered.inc({ platform: 'slack', reason: 'permanent' });
    await Promise.all([a.activity.flush(), b.activity.flush(), a.activity.flush()]);
    const [minute] = await a.activity.minutes(1);
    expect(minute).toEqual({ minute: '2026-07-04T12:00', fields: { received: 7, dead: 1 } });
    expect(await b.activity.minutes(1)).toEqual([minute]);
  });
});
