/**
 * `parley simulate` names why it reached nothing (the socket's `connect ECONNREFUSED host:port`,
 * not fetch's bare "fetch failed"), and never prints a user and password given in --url: those go
 * as an `Authorization: Basic` header, as curl sends them, and print as `…@`.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { simulateSlack } from '../../cli/simulate.js';
import { simulateIntercom } from '../../cli/simulate-intercom.js';
import { simulateWhatsApp } from '../../cli/simulate-whatsapp.js';
import { whyUnreached } from '../../cli/unreached.js';
import { awsErrorText } from '../../cli/check-aws.js';
import { loadConfig } from '../../src/index.js';
import { freePort } from '../helpers/processes.js';
import { ACCOUNT_SID, AUTH_TOKEN } from '../helpers/twilio-webhooks.js';

const PATHS = { slack: '/slack/events', intercom: '/intercom/webhook', whatsapp: '/twilio/whatsapp' };

/** Where the platforms' APIs are (Slack's auth.test): nothing listens there. */
function configFor(port: number) {
  return loadConfig({
    PORT: '0',
    METRICS_PORT: 'off',
    SLACK_SIGNING_SECRET: 'abcdefgh1234',
    SLACK_BOT_TOKEN: 'xoxb-1',
    // Nothing there: the mention's bot id is the placeholder.
    SLACK_API_URL: `http://127.0.0.1:${port}/api/`,
    INTERCOM_ACCESS_TOKEN: 'intercom-token',
    INTERCOM_CLIENT_SECRET: 'test-intercom-client-secret',
    INTERCOM_API_URL: `http://127.0.0.1:${port}`,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_WHATSAPP_FROM: 'whatsapp:+14155238886',
    TWILIO_WHATSAPP_PATH: PATHS.whatsapp,
    TWILIO_API_URL: `http://127.0.0.1:${port}`,
  });
}

/** Every simulate, each to `url(path)`; what they printed, and their exit codes. */
async function simulateAll(url: (path: string) => string) {
  const printed: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
  const error = vi.spyOn(console, 'error').mockImplementation((line: string) => void printed.push(line));
  try {
    const config = configFor(await freePort());
    const codes = await Promise.all([
      simulateSlack(config, { text: 'hi', url: url(PATHS.slack) }),
      simulateIntercom(config, { text: 'hi', url: url(PATHS.intercom) }),
      simulateWhatsApp(config, { text: 'hi', url: url(PATHS.whatsapp) }),
    ]);
    return { codes, printed };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

describe('parley simulate, nothing listening', () => {
  it('names the refused connection (host:port), not "fetch failed"', async () => {
    const port = await freePort();
    const { codes, printed } = await simulateAll((path) => `http://127.0.0.1:${port}${path}`);
    expect(codes).toEqual([1, 1, 1]);
    for (const path of Object.values(PATHS)) {
      expect(printed).toContain(`could not reach http://127.0.0.1:${port}${path}: connect ECONNREFUSED 127.0.0.1:${port}. Is the server running (npm start)?`);
    }
    expect(printed.join('\n')).not.toContain('fetch failed');
  });

  it('prints a --url with a user and password as …@, never the password', async () => {
    const port = await freePort();
    const { codes, printed } = await simulateAll((path) => `http://ops:SECRETsimpw@127.0.0.1:${port}${path}`);
    expect(codes).toEqual([1, 1, 1]);
    for (const path of Object.values(PATHS)) {
      expect(printed).toContain(`could not reach http://…@127.0.0.1:${port}${path}: connect ECONNREFUSED 127.0.0.1:${port}. Is the server running (npm start)?`);
    }
    expect(printed.join('\n')).not.toMatch(/SECRET|ops:/);
  });

  it('a --url that is not a URL is named without what reads as its password', async () => {
    // No such port: not a URL.
    const { codes, printed } = await simulateAll((path) => `http://ops:SECRETsimpw@127.0.0.1:99999${path}`);
    expect(codes).toEqual([1, 1, 2]);
    expect(printed).toHaveLength(3);
    for (const line of printed) expect(line).toContain('"http://…@127.0.0.1:99999/');
    expect(printed.join('\n')).not.toMatch(/SECRET|ops:/);
  });
});

describe('parley simulate, --url with a user and password', () => {
  it('sends them as Authorization: Basic (signed as the server sees the URL, without them), and prints them as …@', async () => {
    const requests: IncomingMessage[] = [];
    server = createServer((req, res) => {
      requests.push(req);
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.url === PATHS.whatsapp) {
          // The server checks the signature against the URL it rebuilds: no user or password in it.
          const rebuilt = `http://${req.headers.host}${req.url}`;
          const valid = twilio.validateRequest(AUTH_TOKEN, String(req.headers['x-twilio-signature']), rebuilt, Object.fromEntries(new URLSearchParams(body)));
          res.writeHead(valid ? 200 : 403).end(valid ? 'ok' : 'bad signature');
        } else {
          res.writeHead(200).end('ok');
        }
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const { codes, printed } = await simulateAll((path) => `http://ops:SECRETsimpw@127.0.0.1:${port}${path}`);
    expect(codes, printed.join('\n')).toEqual([0, 0, 0]);
    const basic = `Basic ${Buffer.from('ops:SECRETsimpw').toString('base64')}`;
    expect(requests.map((r) => [r.url, r.headers.authorization]).sort()).toEqual(Object.values(PATHS).map((path) => [path, basic]).sort());
    for (const path of Object.values(PATHS)) expect(printed).toContainEqual(expect.stringContaining(` to http://…@127.0.0.1:${port}${path}: 200 ok`));
    expect(printed.join('\n')).not.toMatch(/SECRET|ops:/);
  });
});

describe('whyUnreached', () => {
  it('is the innermost cause: the socket error under fetch\'s "fetch failed" and the SDK\'s "Connection error."', () => {
    const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(whyUnreached(new Error('Connection error.', { cause: new TypeError('fetch failed', { cause: socket }) }))).toBe('connect ECONNREFUSED 127.0.0.1:9');
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND ai.example.invalid'), { code: 'ENOTFOUND' });
    expect(whyUnreached(new TypeError('fetch failed', { cause: dns }))).toBe('getaddrinfo ENOTFOUND ai.example.invalid');
  });

  it("names each address an AggregateError tried (its own message is empty), a code when there is no message, and no URL's password", () => {
    const refused = (address: string) => Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    const every = Object.assign(new AggregateError([refused('::1:9'), refused('127.0.0.1:9')], ''), { code: 'ECONNREFUSED' });
    expect(whyUnreached(new TypeError('fetch failed', { cause: every }))).toBe('connect ECONNREFUSED ::1:9; connect ECONNREFUSED 127.0.0.1:9');
    expect(whyUnreached(new TypeError('fetch failed', { cause: Object.assign(new Error(''), { code: 'UND_ERR_SOCKET' }) }))).toBe('UND_ERR_SOCKET');
    expect(whyUnreached(new TypeError('Failed to parse URL from http://u:SECRET@h/'))).toBe('Failed to parse URL from http://…@h/');
  });
});

describe('awsErrorText', () => {
  it('names each address refused when the SDK gives an AggregateError (no message of its own), not "AggregateError: "', () => {
    const refused = (address: string) => Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    const every = Object.assign(new AggregateError([refused('::1:4566'), refused('127.0.0.1:4566')], ''), { code: 'ECONNREFUSED' });
    expect(awsErrorText(every)).toBe('connect ECONNREFUSED ::1:4566; connect ECONNREFUSED 127.0.0.1:4566');
    expect(awsErrorText(Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' }))).toBe('ResourceNotFoundException: Requested resource not found');
  });
});
