/**
 * ALERT_WEBHOOK_URL answering with a redirect (an http:// URL behind a proxy that sends every
 * request on to https://, a moved hook): fetch would follow it, turning a 301 or 302 POST into a
 * GET without the alert's text, and take the page it lands on (200) for a delivered alert; a 307 or
 * 308 would carry the text to wherever the redirect points. The alert is not posted there: the post
 * fails at once (a redirect is not tried again), is logged with the status and where it points (its
 * origin only: the path of a Slack webhook is its key), and shows as not delivered.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observe/index.js';
import { Alerts } from '../../src/ops/alerts.js';
import { MemoryStore } from '../../src/store/index.js';
import { until } from '../helpers/until.js';

interface Seen {
  method: string;
  url: string;
  body: string;
}

let server: Server;
let base: string;
let seen: Seen[];
let status: number;
/** A request to /hook/held waits here for the test to answer it. */
let held: ServerResponse | undefined;

beforeEach(async () => {
  seen = [];
  status = 301;
  held = undefined;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      // The hook moved: every request to it is sent on; the page it lands on answers 200 to anything.
      if (req.url === '/hook/held') held = res;
      else if (req.url === '/hook/SECRETpath') res.writeHead(status, { location: `${base}/landing` }).end();
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<html>welcome</html>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const alert = { kind: 'budget_exceeded', episode: 'e1', ttlMs: 60_000, text: 'parley: the daily AI budget is spent' };

describe('ALERT_WEBHOOK_URL answering with a redirect', () => {
  for (const code of [301, 302, 307, 308]) {
    it(`${code}: not followed; logged as not posted (the status and where it points), shown as not delivered`, async () => {
      status = code;
      const lines: string[] = [];
      const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
      const alerts = new Alerts({ webhookUrl: `${base}/hook/SECRETpath`, store: new MemoryStore(), metrics: createMetrics(), logger });
      await alerts.raise(alert);
      await alerts.settled();
      expect(seen).toEqual([{ method: 'POST', url: '/hook/SECRETpath', body: '{"text":"parley: the daily AI budget is spent"}' }]);
      expect(await alerts.recent()).toEqual([expect.objectContaining({ kind: 'budget_exceeded', delivered: false })]);
      const failed = lines.map((line) => JSON.parse(line) as { msg: string; err?: string }).find((line) => line.msg === 'could not post the alert to ALERT_WEBHOOK_URL');
      expect(failed?.err).toContain(`answered ${code}`);
      expect(failed?.err).toContain(`a redirect to ${base}: set ALERT_WEBHOOK_URL to the address it points to`);
      expect(failed?.err).not.toContain('/landing');
      expect(lines.join('\n')).not.toContain('SECRETpath');
    }, 15_000);
  }
});

it('a redirect answered while the process stops is logged as the redirect, not as the stop', async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  const alerts = new Alerts({ webhookUrl: `${base}/hook/held`, store: new MemoryStore(), metrics: createMetrics(), logger });
  await alerts.raise(alert);
  const res = await until(() => held, 'the post under way');
  const stopped = alerts.stop();
  res.writeHead(302, { location: `${base}/landing` }).end();
  await stopped;
  const failed = lines.map((line) => JSON.parse(line) as { msg: string; err?: string }).find((line) => line.msg === 'could not post the alert to ALERT_WEBHOOK_URL');
  expect(failed?.err).toContain(`answered 302, a redirect to ${base}: set ALERT_WEBHOOK_URL to the address it points to`);
  expect(await alerts.recent()).toEqual([expect.objectContaining({ delivered: false })]);
});
