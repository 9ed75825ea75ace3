/**
 * ALERT_WEBHOOK_URL with a user and password: fetch refuses such a URL, so they go as an
 * `Authorization: Basic` header; and a failed post never logs the URL (its password or its path).
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hideUrl } from '../../src/http/credentials.js';
import { createMetrics } from '../../src/observe/index.js';
import { Alerts } from '../../src/ops/alerts.js';
import { MemoryStore } from '../../src/store/index.js';
import { QUICK_POST_RETRY } from '../helpers/ops.js';
import { startFakeCallback, type FakeCallback } from '../fakes/callback-server.js';

let webhook: FakeCallback;
beforeEach(async () => {
  webhook = await startFakeCallback();
});
afterEach(async () => {
  await webhook.close().catch(() => undefined);
});

const alert = { kind: 'dead_letters', episode: 'e1', ttlMs: 60_000, text: 'parley: dead letters' };

function alertsLogging(webhookUrl: string): { alerts: Alerts; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { alerts: new Alerts({ webhookUrl, store: new MemoryStore(), metrics: createMetrics(), logger, postRetry: QUICK_POST_RETRY }), lines };
}

describe('ALERT_WEBHOOK_URL with credentials', () => {
  it('sends them as Authorization: Basic (percent-decoded), not in the URL', async () => {
    const url = webhook.url.replace('http://', 'http://alert%40user:SECRET%3Aalerthook@');
    const { alerts, lines } = alertsLogging(url);
    await alerts.raise(alert);
    await alerts.settled();
    expect(webhook.calls).toHaveLength(1);
    expect(webhook.calls[0]!.headers.authorization).toBe(`Basic ${Buffer.from('alert@user:SECRET:alerthook').toString('base64')}`);
    expect(webhook.calls[0]!.raw).toBe('{"text":"parley: dead letters"}');
    expect(await alerts.recent()).toEqual([expect.objectContaining({ delivered: true })]);
    expect(lines.join('\n')).not.toContain('SECRET');
  });

  it('a post that fails logs a short reason and the origin only: no password, no path', async () => {
    const closedPort = new URL(webhook.url).port;
    await webhook.close();
    const { alerts, lines } = alertsLogging(`http://alertuser:SECRETalerthook@127.0.0.1:${closedPort}/hook/SECRETalertpath`);
    await alerts.raise(alert);
    await alerts.settled();
    const logged = lines.join('\n');
    expect(logged).toContain('could not post the alert to ALERT_WEBHOOK_URL');
    expect(logged).toContain('"err":"fetch failed (ECONNREFUSED)"');
    expect(logged).not.toContain('SECRETalerthook');
    expect(logged).not.toContain('SECRETalertpath');
    expect(logged).not.toContain('alertuser');
    expect(await alerts.recent()).toEqual([expect.objectContaining({ delivered: false })]);
  });
});

describe('hideUrl', () => {
  it('replaces the URL (as given, as parsed, without credentials) by its origin, and any credentials by <hidden>', () => {
    const raw = 'https://u:p4ss@Hooks.Example.com/services/SECRETpath';
    expect(hideUrl(`failed: ${raw}`, raw)).toBe('failed: https://hooks.example.com');
    expect(hideUrl('failed: https://hooks.example.com/services/SECRETpath', raw)).toBe('failed: https://hooks.example.com');
    expect(hideUrl('at http://x:y@other.example/z', raw)).toBe('at http://<hidden>@other.example/z');
  });
});
