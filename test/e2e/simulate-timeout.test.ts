/**
 * `parley simulate` against a server that takes the connection and never answers: one line saying
 * so and exit 1 within its 10 s, for each platform — not a command that hangs.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { simulateSlack } from '../../cli/simulate.js';
import { simulateIntercom } from '../../cli/simulate-intercom.js';
import { simulateWhatsApp } from '../../cli/simulate-whatsapp.js';
import { loadConfig } from '../../src/index.js';
import { ACCOUNT_SID, AUTH_TOKEN } from '../helpers/twilio-webhooks.js';

const sockets = new Set<Socket>();
const silent = createServer((socket) => {
  sockets.add(socket);
  socket.on('error', () => undefined);
});

beforeAll(() => new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve)));
afterAll(() => {
  for (const socket of sockets) socket.destroy();
  return new Promise<void>((resolve) => silent.close(() => resolve()));
});

describe('parley simulate against a server that never answers', () => {
  it('slack, intercom and whatsapp each give up within seconds with one line, exit 1', async () => {
    const errors: string[] = [];
    const error = vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    const config = loadConfig({
      PORT: '0',
      METRICS_PORT: 'off',
      SLACK_SIGNING_SECRET: 'abcdefgh1234',
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_API_URL: 'http://127.0.0.1:12142/api/',
      INTERCOM_ACCESS_TOKEN: 'intercom-token',
      INTERCOM_CLIENT_SECRET: 'test-intercom-client-secret',
      INTERCOM_API_URL: 'http://127.0.0.1:12142',
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_WHATSAPP_FROM: 'whatsapp:+14155238886',
      TWILIO_API_URL: 'http://127.0.0.1:12142',
    });
    const url = (path: string) => `http://127.0.0.1:${(silent.address() as AddressInfo).port}${path}`;
    const started = Date.now();
    try {
      const codes = await Promise.all([
        simulateSlack(config, { text: 'hi', url: url('/slack/events') }),
        simulateIntercom(config, { text: 'hi', url: url('/intercom/webhook') }),
        simulateWhatsApp(config, { text: 'hi', url: url('/whatsapp/webhook') }),
      ]);
      expect(codes, errors.join('\n')).toEqual([1, 1, 1]);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(errors).toHaveLength(3);
      for (const path of ['/slack/events', '/intercom/webhook', '/whatsapp/webhook']) {
        expect(errors).toContainEqual(expect.stringMatching(new RegExp(`^no answer from ${url(path).replace(/\./g, '\\.')} within 10 s: `)));
      }
      expect(errors.join('')).not.toContain('\n');
    } finally {
      error.mockRestore();
    }
  }, 30_000);
});
