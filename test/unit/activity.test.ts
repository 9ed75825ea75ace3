/**
 * Traffic per UTC minute from the metrics (Activity over a MemoryTally), and the time-to-reply
 * quantiles read from the histogram's bucket counts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { minuteCounts, replyQuantile, sumFields } from '../../src/ops/activity.js';
import { opsParts } from '../helpers/ops.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-02-10T08:30:15Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Activity', () => {
  it('minutes(n) is the last n minutes, oldest first, the current one last, empty ones empty', async () => {
    const { activity, metrics } = opsParts();
    metrics.messagesReceived.inc({ platform: 'web' }, 2);
    await activity.flush();
    vi.setSystemTime(new Date('2026-02-10T08:32:40Z'));
    metrics.messagesReceived.inc({ platform: 'web' });
    await activity.flush();
    const minutes = await activity.minutes(4);
    expect(minutes).toEqual([
      { minute: '2026-02-10T08:29', fields: {} },
      { minute: '2026-02-10T08:30', fields: { received: 2 } },
      { minute: '2026-02-10T08:31', fields: {} },
      { minute: '2026-02-10T08:32', fields: { received: 1 } },
    ]);
    expect(minutes.map((m) => minuteCounts(m.minute, m.fields))[0]).toEqual({ minute: '2026-02-10T08:29', received: 0, answered: 0, apologised: 0, deadLettered: 0 });
    expect(await activity.minutes(2, new Date('2026-02-10T08:31:00Z'))).toEqual(minutes.slice(1, 3));
    expect(sumFields(minutes)).toEqual({ received: 3 });
  });

  it('a flush adds only what the counters gained since the last one', async () => {
    const { activity, metrics } = opsParts();
    metrics.messagesReceived.inc({ platform: 'web' }, 5);
    metrics.messagesReceived.inc({ platform: 'slack' }, 2);
    await activity.flush();
    await activity.flush();
    await Promise.all([activity.flush(), activity.flush()]);
    expect((await activity.minutes(1))[0]!.fields).toEqual({ received: 7 });
    metrics.messagesReceived.inc({ platform: 'web' });
    await activity.flush();
    await activity.flush();
    expect((await activity.minutes(1))[0]!.fields).toEqual({ received: 8 });
  });

  it('maps each counter to its field: apologies, dead letters, cache, rate limits, refused signatures only', async () => {
    const { activity, metrics } = opsParts();
    metrics.repliesSent.inc({ platform: 'web', kind: 'answer' }, 4);
    metrics.repliesSent.inc({ platform: 'web', kind: 'apology' }, 2);
    metrics.deadLettered.inc({ platform: 'web', reason: 'permanent' }, 3);
    metrics.cacheLookups.inc({ result: 'hit' }, 5);
    metrics.cacheLookups.inc({ result: 'miss' }, 6);
    metrics.rateLimited.inc({ platform: 'web', limit: 'user' }, 7);
    metrics.webhooksRejected.inc({ platform: 'slack', reason: 'bad_signature' }, 8);
    metrics.webhooksRejected.inc({ platform: 'slack', reason: 'stale_timestamp' }, 1);
    metrics.webhooksRejected.inc({ platform: 'web', reason: 'malformed_body' }, 9);
    await activity.flush();
    expect((await activity.minutes(1))[0]!.fields).toEqual({ apologised: 2, dead: 3, cache_hit: 5, cache_miss: 6, rate_limited: 7, signature_failures: 9 });
  });

  it('stop() adds what is left', async () => {
    const { activity, metrics } = opsParts();
    activity.start();
    metrics.deadLettered.inc({ platform: 'web', reason: 'permanent' });
    await activity.stop();
    expect((await activity.minutes(1))[0]!.fields).toEqual({ dead: 1 });
  });
});

describe('time to reply', () => {
  it('p50 and p95 interpolate within the bucket the rank falls in', () => {
    // 10 answers: 5 within 0.25 s, 5 between 0.5 s and 1 s (buckets are cumulative).
    const fields = { answered: 10, 'le_0.25': 5, 'le_0.5': 5, le_1: 10, le_2: 10 };
    expect(replyQuantile(fields, 0.5)).toBe(250);
    expect(replyQuantile(fields, 0.95)).toBe(950);
    expect(replyQuantile({ answered: 4, le_2: 2, le_3: 4 }, 0.5)).toBe(2000);
    expect(replyQuantile({ answered: 4, le_2: 2, le_3: 4 }, 0.75)).toBe(2500);
  });

  it('fast replies read as fast: 19-82 ms answers give p50 and p95 within those, not 125 ms and 238 ms', async () => {
    const { activity, metrics } = opsParts();
    const seconds = [0.019, 0.022, 0.027, 0.031, 0.034, 0.041, 0.048, 0.055, 0.063, 0.082];
    for (const s of seconds) metrics.replySeconds.observe({ platform: 'web' }, s);
    await activity.flush();
    const fields = (await activity.minutes(1))[0]!.fields;
    const p50 = replyQuantile(fields, 0.5)!;
    const p95 = replyQuantile(fields, 0.95)!;
    // the true median is 34-41 ms, the true p95 82 ms; a bucket's interpolation stays inside it
    expect(p50).toBeGreaterThanOrEqual(25);
    expect(p50).toBeLessThanOrEqual(50);
    expect(p95).toBeGreaterThanOrEqual(75);
    expect(p95).toBeLessThanOrEqual(100);
  });

  it('answers slower than the last bucket count as the last bound; no answers, no figure', () => {
    expect(replyQuantile({ answered: 2 }, 0.5)).toBe(600_000);
    expect(replyQuantile({}, 0.5)).toBeNull();
  });

  it('from the parley_reply_seconds histogram, through a flush', async () => {
    const { activity, metrics } = opsParts();
    for (const seconds of [0.1, 0.1, 0.2, 0.2, 0.2, 0.6, 0.7, 0.8, 0.9, 0.9]) metrics.replySeconds.observe({ platform: 'web' }, seconds);
    metrics.replySeconds.observe({ platform: 'slack' }, 4);
    metrics.replySeconds.observe({ platform: 'slack' }, 4);
    await activity.flush();
    const fields = (await activity.minutes(1))[0]!.fields;
    expect(fields).toMatchObject({ answered: 12, 'le_0.25': 5, 'le_0.5': 5, le_1: 10, le_3: 10, le_5: 12, le_600: 12 });
    expect(replyQuantile(fields, 0.5)).toBe(500 + Math.round(500 * (6 - 5) / 5));
    expect(replyQuantile(fields, 0.95)).toBe(3000 + Math.round(2000 * (11.4 - 10) / 2));
  });
});
