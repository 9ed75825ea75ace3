/**
 * Budgets across the calendar, on a real Redis, in three time zones of the process (UTC, Los
 * Angeles, Kolkata: nothing may change with TZ): a day and a month are UTC's; spend either side of
 * midnight lands in its own day; months of 28, 29, 30 and 31 days each end on their last
 * millisecond; a counter outlives its period; an alert comes once per period and again the next.
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
const processes: OpsParts[] = [];

beforeAll(async () => {
  webhook = await startFakeCallback();
});
afterAll(async () => {
  await webhook.close();
});
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.alerts.settled()));
  webhook.calls.length = 0;
  vi.useRealTimers();
});

/** A process's budgets on a fresh namespace; `namespace` to read its keys. */
async function budgets(limits: Limits): Promise<OpsParts & { namespace: string }> {
  const namespace = `${prefix}:${++run}:`;
  const connection = await redis.connection();
  const parts = opsParts({ limits, webhookUrl: webhook.url, store: new RedisStore(connection, namespace), tally: new RedisTally(connection, namespace) });
  processes.push(parts);
  return { ...parts, namespace };
}

/** The process's clock at `iso` (Date only: timers and Redis run as usual). */
function at(iso: string): Date {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(iso));
  return new Date(iso);
}

describe.each(['UTC', 'America/Los_Angeles', 'Asia/Kolkata'])('budgets by the calendar, TZ=%s', (tz) => {
  const before = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = tz;
  });
  afterAll(() => {
    process.env.TZ = before;
  });

  it('runs in that time zone', () => {
    const offset = new Date('2028-01-15T12:00:00Z').getTimezoneOffset();
    expect(offset).toBe({ UTC: 0, 'America/Los_Angeles': 480, 'Asia/Kolkata': -330 }[tz]);
  });

  it('spend at 23:59:59.900 and at 00:00:00.100 UTC counts in two days (on the leap day too), one month', async () => {
    const { spend } = await budgets({ dayUsd: 1, monthUsd: 10 });
    await spend.record('m', 'T1', 0.7, at('2028-02-28T23:59:59.900Z'));
    await spend.record('m', 'T1', 0.7, at('2028-02-29T00:00:00.100Z'));
    await spend.record('m', 'T1', 0.7, at('2028-02-29T23:59:59.999Z'));
    expect((await spend.summary(new Date('2028-02-28T12:00:00Z'))).today.totalUsd).toBeCloseTo(0.7);
    expect((await spend.summary(new Date('2028-02-29T00:00:00.000Z'))).today.totalUsd).toBeCloseTo(1.4);
    expect((await spend.summary(new Date('2028-03-01T00:00:00.000Z'))).today.totalUsd).toBe(0);
    expect((await spend.summary(new Date('2028-02-29T18:00:00Z'))).month.totalUsd).toBeCloseTo(2.1);
    // Kolkata's midnight (18:30 UTC) and Los Angeles' (08:00 UTC) start nothing.
    expect(await spend.exceeded('T1', new Date('2028-02-29T18:30:00.001Z'))).toMatchObject({ period: 'day', periodKey: '2028-02-29' });
    expect(await spend.exceeded('T1', new Date('2028-03-01T07:59:59.999Z'))).toBeUndefined();
  });

  it.each([
    ['2027-02', '2027-02-28T23:59:59.999Z', '2027-03-01T00:00:00.000Z'],
    ['2028-02', '2028-02-29T23:59:59.999Z', '2028-03-01T00:00:00.000Z'],
    ['2028-04', '2028-04-30T23:59:59.999Z', '2028-05-01T00:00:00.000Z'],
    ['2028-12', '2028-12-31T23:59:59.999Z', '2029-01-01T00:00:00.000Z'],
  ])('the month %s is spent up to its last millisecond, and the next starts afresh', async (month, last, next) => {
    const { spend } = await budgets({ monthUsd: 5 });
    await spend.record('m', undefined, 5, at(`${month}-01T00:00:00.000Z`));
    expect(await spend.exceeded(undefined, at(last))).toMatchObject({ period: 'month', periodKey: month, state: 'exceeded' });
    expect(await spend.exceeded(undefined, at(next))).toBeUndefined();
  });

  it('a counter written on the first moment of a 31-day month lives past its end; a day counter past its day', async () => {
    const { spend, namespace } = await budgets({ monthUsd: 5 });
    await spend.record('m', undefined, 1, at('2028-01-01T00:00:00.000Z'));
    const admin = redis.admin();
    expect(await admin.pttl(`${namespace}parley:spend:month:2028-01`)).toBeGreaterThan(31 * 24 * 3_600_000);
    expect(await admin.pttl(`${namespace}parley:spend:day:2028-01-01`)).toBeGreaterThan(24 * 3_600_000);
  });

  it('a spent budget alerts once in its period and again in the next (the leap day, then March)', async () => {
    const parts = await budgets({ dayUsd: 1 });
    for (const iso of ['2028-02-28T10:00:00Z', '2028-02-28T23:59:59.999Z', '2028-02-29T00:00:00.000Z', '2028-02-29T22:00:00Z', '2028-03-01T00:00:00.001Z']) {
      await parts.spend.record('m', undefined, 1, at(iso));
    }
    await parts.alerts.settled();
    expect(postedTexts(webhook)).toEqual([
      'parley: the daily AI budget is spent (100%): $1.00 of $1.00 (UTC day 2028-02-28).',
      'parley: the daily AI budget is spent (100%): $1.00 of $1.00 (UTC day 2028-02-29).',
      'parley: the daily AI budget is spent (100%): $1.00 of $1.00 (UTC day 2028-03-01).',
    ]);
  });
});
