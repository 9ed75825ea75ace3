/**
 * ALERT_WEBHOOK_URL answering 429 (or 503) with Retry-After: the next try waits as long as it asks
 * (seconds or an HTTP date), as Slack's and Twilio's SDKs do, rather than coming back on the usual
 * backoff inside the window it named and being refused again until the tries run out. A very long
 * Retry-After is waited up to MAX_ASKED_WAIT_MS, and stop() still cuts that wait short.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observe/index.js';
import { Alerts, MAX_ASKED_WAIT_MS } from '../../src/ops/alerts.js';
import { MemoryStore } from '../../src/store/index.js';
import { startFakeCallback, type FakeCallback } from '../fakes/callback-server.js';
import { QUICK_POST_RETRY } from '../helpers/ops.js';
import { until } from '../helpers/until.js';

let webhook: FakeCallback;
beforeEach(async () => {
  webhook = await startFakeCallback();
});
afterEach(async () => {
  await webhook.close();
});

const alert = { kind: 'budget_exceeded', episode: 'e1', ttlMs: 60_000, text: 'parley: the daily AI budget is spent' };

function alertsLogging() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  // QUICK_POST_RETRY: three tries 5 ms apart, all inside the window a Retry-After names unless it is waited out.
  const alerts = new Alerts({ webhookUrl: webhook.url, store: new MemoryStore(), metrics: createMetrics(), logger, postRetry: QUICK_POST_RETRY });
  return { alerts, lines };
}

describe('a webhook that asks to wait (Retry-After)', () => {
  const cases: Array<[string, number, () => string]> = [
    ['429, Retry-After in seconds', 429, () => '1'],
    ['503, Retry-After in seconds', 503, () => '1'],
    ['429, Retry-After as an HTTP date', 429, () => new Date(Date.now() + 3000).toUTCString()],
  ];
  for (const [name, status, retryAfter] of cases) {
    it(`${name}: the next try comes after it, and is taken`, async () => {
      // A rate-limited hook: the first post opens a window (a little short of the second the header
      // names: clocks and rounding); a post inside it is refused again.
      let windowEnds = Infinity;
      webhook.script((call, n) => {
        if (n === 0) windowEnds = call.at + 900;
        return call.at < windowEnds ? { status, headers: { 'retry-after': n === 0 ? retryAfter() : '1' } } : undefined;
      });
      const { alerts } = alertsLogging();
      await alerts.raise(alert);
      await alerts.settled();
      expect(webhook.calls).toHaveLength(2);
      expect((await alerts.recent()).map((a) => a.delivered)).toEqual([true]);
    }, 15_000);
  }

  it('an hour asked for is waited MAX_ASKED_WAIT_MS, logged; stop() cuts the wait short', async () => {
    webhook.script(() => ({ status: 429, headers: { 'retry-after': '3600' } }));
    const { alerts, lines } = alertsLogging();
    await alerts.raise(alert);
    const waiting = await until(() => lines.find((line) => line.msg === 'the alert webhook asked to wait (Retry-After): posting the alert again then'), 'the wait asked for');
    expect(waiting).toMatchObject({ level: 30, alert: 'budget_exceeded', waitMs: MAX_ASKED_WAIT_MS });
    expect(MAX_ASKED_WAIT_MS).toBe(60_000);
    await alerts.stop();
    expect(webhook.calls).toHaveLength(1);
    expect((await alerts.recent()).map((a) => a.delivered)).toEqual([false]);
    expect(lines.filter((line) => line.level === 50).map((line) => line.err)).toEqual(['the process stopped before the webhook took it']);
    expect(JSON.stringify(lines)).not.toContain(webhook.url);
  });

  it('a Retry-After of 0 or one that does not read: the usual backoff, no word of a wait', async () => {
    for (const retryAfter of ['0', 'soon']) {
      webhook.calls.length = 0;
      webhook.script(() => ({ status: 429, headers: { 'retry-after': retryAfter } }));
      const { alerts, lines } = alertsLogging();
      await alerts.raise(alert);
      await alerts.settled();
      expect([retryAfter, webhook.calls.length]).toEqual([retryAfter, QUICK_POST_RETRY.attempts]);
      expect(lines.filter((line) => String(line.msg).includes('asked to wait'))).toEqual([]);
    }
  });
});
