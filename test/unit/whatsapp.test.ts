import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappConfigFromEnv } from '../../adapters/whatsapp/config.js';
import { classifyTwilioError } from '../../adapters/whatsapp/errors.js';
import { DEFAULT_RETRY_AFTER_MS, createTwilioHttpClient, retryAfterMs } from '../../adapters/whatsapp/http-client.js';
import { parseTwilioWebhook } from '../../adapters/whatsapp/inbound.js';
import { parseTwilioBody } from '../../adapters/whatsapp/parse.js';
import { emptyTwiml, messagesTwiml } from '../../adapters/whatsapp/twiml.js';
import { ConfigError, HttpError, PermanentError, RetryAfterError } from '../../src/index.js';
import { PLATFORM_UNREACHABLE_WAIT_MS } from '../../src/adapter-kit.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, USER_NUMBER, statusCallback, whatsappImage, whatsappMessage } from '../helpers/twilio-webhooks.js';

const base = { TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER };

function configError(env: Record<string, string>): string {
  try {
    whatsappConfigFromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('no ConfigError');
}

describe('whatsappConfigFromEnv', () => {
  it('is off without Twilio variables', () => {
    expect(whatsappConfigFromEnv({})).toBeUndefined();
  });

  it('reads the variables, with defaults', () => {
    expect(whatsappConfigFromEnv({ ...base, TWILIO_AUTH_TOKEN: `${AUTH_TOKEN}, old-token-0000` })).toEqual({
      accountSid: ACCOUNT_SID,
      authTokens: [AUTH_TOKEN, 'old-token-0000'],
      from: BOT_NUMBER,
      apiUrl: 'https://api.twilio.com',
      path: '/twilio/whatsapp',
    });
  });

  it('adds the whatsapp: prefix to a bare number', () => {
    expect(whatsappConfigFromEnv({ ...base, TWILIO_WHATSAPP_FROM: '+14155238886' })?.from).toBe('whatsapp:+14155238886');
  });

  it('names the missing token, SID or sender, and the fix', () => {
    expect(configError({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_WHATSAPP_FROM: BOT_NUMBER })).toMatch(/TWILIO_AUTH_TOKEN is missing.*Fix:/);
    expect(configError({ TWILIO_AUTH_TOKEN: AUTH_TOKEN })).toMatch(/TWILIO_ACCOUNT_SID is missing.*Fix:/);
    const sender = configError({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN });
    expect(sender).toContain('TWILIO_WHATSAPP_FROM');
    expect(sender).toContain('TWILIO_MESSAGING_SERVICE_SID');
  });

  it('names every problem in one error: a short token beside a missing sender, never the short token as missing', () => {
    const message = configError({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: 'x' });
    expect(message).toMatch(/^TWILIO_AUTH_TOKEN="<hidden>" is invalid/m);
    expect(message).toMatch(/^TWILIO_WHATSAPP_FROM is missing: replies need a sender/m);
    expect(message).not.toContain('TWILIO_AUTH_TOKEN is missing');
    const all = configError({ TWILIO_AUTH_TOKEN: 'x', TWILIO_WHATSAPP_PATH: 'no-slash' });
    expect(all.split('\n')).toEqual([
      expect.stringMatching(/^TWILIO_AUTH_TOKEN="<hidden>" is invalid/),
      expect.stringMatching(/^TWILIO_WHATSAPP_PATH="no-slash" is invalid/),
      expect.stringMatching(/^TWILIO_ACCOUNT_SID is missing/),
      expect.stringMatching(/^TWILIO_WHATSAPP_FROM is missing/),
    ]);
  });

  it('refuses malformed values without echoing the token', () => {
    expect(configError({ ...base, TWILIO_ACCOUNT_SID: 'SK123' })).toContain('TWILIO_ACCOUNT_SID');
    expect(configError({ ...base, TWILIO_WHATSAPP_FROM: '4155238886' })).toContain('TWILIO_WHATSAPP_FROM');
    const token = configError({ ...base, TWILIO_AUTH_TOKEN: 'short' });
    expect(token).toContain('TWILIO_AUTH_TOKEN');
    expect(token).not.toContain('short');
  });
});

describe('parseTwilioWebhook', () => {
  it('turns a WhatsApp message into an InboundMessage', () => {
    const form = whatsappMessage({ Body: ' hi there ' });
    const result = parseTwilioWebhook(form);
    expect(result.kind).toBe('message');
    if (result.kind !== 'message') return;
    expect(result.message).toMatchObject({
      id: form.MessageSid,
      platform: 'whatsapp',
      conversation: { platform: 'whatsapp', id: `${BOT_NUMBER}:${USER_NUMBER}`, details: { from: USER_NUMBER, to: BOT_NUMBER } },
      user: { id: '15551234567', name: 'Alice' },
      text: 'hi there',
      tenant: ACCOUNT_SID,
    });
    expect(result.message.attachments).toBeUndefined();
  });

  it('collects media into attachments', () => {
    const form = whatsappImage({ NumMedia: '2', MediaUrl1: 'https://example.com/b.pdf', MediaContentType1: 'application/pdf' });
    const result = parseTwilioWebhook(form);
    if (result.kind !== 'message') throw new Error('not a message');
    expect(result.message.text).toBe('');
    expect(result.message.attachments).toEqual([
      { url: form.MediaUrl0, contentType: 'image/jpeg' },
      { url: 'https://example.com/b.pdf', contentType: 'application/pdf' },
    ]);
  });

  it('reads a shared location as a line of text, so a pin is answered rather than dropped', () => {
    const text = (form: Record<string, string>) => {
      const result = parseTwilioWebhook(whatsappMessage(form));
      if (result.kind !== 'message') throw new Error('not a message');
      return result.message.text;
    };
    const pin = { Body: '', MessageType: 'location', Latitude: '51.5072', Longitude: '-0.1276' };
    expect(text({ ...pin, Address: '10 Downing Street, London', Label: 'Office' })).toBe('[location: Office, 10 Downing Street, London (51.5072, -0.1276)]');
    expect(text(pin)).toBe('[location: (51.5072, -0.1276)]');
    expect(text({ ...pin, Body: 'meet here?' })).toBe('meet here?\n[location: (51.5072, -0.1276)]');
  });

  it('hands on a message Twilio did not carry (MessageType unsupported: a poll, a view-once photo) as one the model cannot read, so the person is told once', () => {
    const result = parseTwilioWebhook(whatsappMessage({ Body: '', MessageType: 'unsupported' }));
    if (result.kind !== 'message') throw new Error(`not a message: ${result.kind}`);
    expect(result.message.text).toBe('');
    expect(result.message.attachments).toEqual([{ name: 'WhatsApp unsupported message' }]);
    // A reaction (its emoji as the Body or not) and an empty text leave nothing to answer.
    expect(parseTwilioWebhook(whatsappMessage({ Body: '', MessageType: 'reaction' }))).toMatchObject({ kind: 'empty', type: 'reaction' });
    expect(parseTwilioWebhook(whatsappMessage({ Body: '👍', MessageType: 'reaction' }))).toMatchObject({ kind: 'empty', type: 'reaction' });
    expect(parseTwilioWebhook(whatsappMessage({ Body: ' ', MessageType: 'text' }))).toMatchObject({ kind: 'empty' });
  });

  it('recognises a status callback, with the error code of a reply Twilio could not deliver', () => {
    expect(parseTwilioWebhook(statusCallback('delivered'))).toEqual(expect.not.objectContaining({ errorCode: expect.anything() }));
    expect(parseTwilioWebhook(statusCallback('delivered'))).toMatchObject({ kind: 'status', status: 'delivered' });
    expect(parseTwilioWebhook({ ...statusCallback('undelivered'), ErrorCode: '63016' })).toMatchObject({ kind: 'status', status: 'undelivered', errorCode: '63016' });
  });

  it.each([
    ['MessageSid', { MessageSid: '' }],
    ['From', { From: '' }],
    ['NumMedia', { NumMedia: 'lots' }],
  ])('refuses a message without a valid %s with 400', (_name, overrides) => {
    const error = (() => {
      try {
        parseTwilioWebhook(whatsappMessage(overrides));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(400);
  });
});

describe('parseTwilioBody', () => {
  const form = (body: string) => ({ method: 'POST', url: new URL('http://x/twilio/whatsapp'), headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(body) });

  it('keeps every value of a repeated name, in order', () => {
    expect(parseTwilioBody(form('a=1&a=2&b=x&a=3'))).toEqual(Object.assign(Object.create(null), { a: ['1', '2', '3'], b: 'x' }));
  });

  it('refuses a body of more fields than Twilio ever sends (it is parsed before its signature is checked) with a 400', () => {
    const body = Array.from({ length: 5000 }, () => 'a').join('&');
    expect(() => parseTwilioBody(form(body))).toThrow(expect.objectContaining({ status: 400, reason: 'malformed_body' }) as Error);
  });
});

describe('Twilio errors → what the queue does', () => {
  const restError = (status: number, code?: number) => Object.assign(new Error('x'), { status, code, message: `error ${code}` });

  it('dead-letters 63016 with its own reason', () => {
    const error = classifyTwilioError(restError(400, 63016));
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).reason).toBe('whatsapp_63016');
  });

  it('dead-letters other refusals, waits out 5xx (Twilio down for now), retries connection errors', () => {
    expect(classifyTwilioError(restError(400, 21211))).toMatchObject({ reason: 'twilio_21211' });
    const server = classifyTwilioError(restError(503, 20503));
    expect(server).toMatchObject({ name: 'RetryAfterError', retryAfterMs: PLATFORM_UNREACHABLE_WAIT_MS, inPlace: false, maybePosted: false });
    // A send a gateway answered 502 may have been taken: looked for first. A listing's never is.
    expect(classifyTwilioError(restError(502))).toMatchObject({ name: 'RetryAfterError', maybePosted: true });
    expect(classifyTwilioError(restError(502), 'the listing of messages', false)).toMatchObject({ name: 'RetryAfterError', maybePosted: false });
    const network = new Error('ECONNRESET');
    expect(classifyTwilioError(network)).toBe(network);
    // An app's own client, Twilio not reachable (nothing sent): a wait.
    expect(classifyTwilioError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toMatchObject({ retryAfterMs: PLATFORM_UNREACHABLE_WAIT_MS });
    expect(classifyTwilioError(restError(429, 20429))).toBeInstanceOf(RetryAfterError);
  });

  it('says what a refusal whose text does not (401 "Authenticate", 21610) means and what to do', () => {
    const credentials = (classifyTwilioError(restError(401, 20003)) as Error).message;
    expect(credentials).toContain('TWILIO_ACCOUNT_SID');
    expect(credentials).toContain('TWILIO_AUTH_TOKEN');
    // A 401 without Twilio's code (a proxy's) is the same refusal.
    expect((classifyTwilioError(restError(401)) as Error).message).toContain('TWILIO_AUTH_TOKEN');
    expect(classifyTwilioError(restError(401, 20003))).toMatchObject({ reason: 'twilio_20003' });
    const optedOut = classifyTwilioError(restError(400, 21610));
    expect(optedOut).toMatchObject({ reason: 'twilio_21610' });
    expect((optedOut as Error).message).toMatch(/STOP.*START/);
  });

  it('waits out 63018 (a sender\'s rate limit) whatever its HTTP status, never dead-lettering it', () => {
    expect(classifyTwilioError(restError(400, 63018))).toBeInstanceOf(RetryAfterError);
    expect(classifyTwilioError(restError(429, 63018))).toBeInstanceOf(RetryAfterError);
  });

  it('a code that is no Twilio error code (text, an object: a proxy\'s JSON) is left out of the reason, which names the status', () => {
    const weird = (code: unknown) => Object.assign(new Error('x'), { status: 400, code, message: 'refused' });
    expect(classifyTwilioError(weird(`weird code ${'z'.repeat(3000)}`))).toMatchObject({ reason: 'twilio_400' });
    expect(classifyTwilioError(weird({ nested: 1 }))).toMatchObject({ reason: 'twilio_400' });
    expect((classifyTwilioError(weird({ nested: 1 })) as Error).message).not.toContain('[object Object]');
    expect(classifyTwilioError(weird('63016'))).toMatchObject({ reason: 'twilio_400' });
  });

  it('reads Retry-After in seconds or as a date, with a default', () => {
    expect(retryAfterMs({ 'retry-after': '3' })).toBe(3000);
    expect(retryAfterMs({ 'retry-after': new Date(10_000 + 7000).toUTCString() }, 10_000)).toBeGreaterThanOrEqual(6000);
    expect(retryAfterMs({})).toBe(DEFAULT_RETRY_AFTER_MS);
    expect(retryAfterMs({ 'retry-after': 'soon' })).toBe(DEFAULT_RETRY_AFTER_MS);
  });

  it("waits at least a second when Retry-After's date is already past by our clock (Twilio's 3 s behind), or is 0", () => {
    const now = Date.parse('2028-02-29T00:00:00.000Z');
    expect(retryAfterMs({ 'retry-after': new Date(now - 3000).toUTCString() }, now)).toBe(1000);
    expect(retryAfterMs({ 'retry-after': '0' }, now)).toBe(1000);
  });
});

describe('TwilioHttpClient', () => {
  let server: Server;
  let url: string;
  const seen: { path: string; auth?: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ path: req.url ?? '', auth: req.headers.authorization });
      if (req.url?.includes('busy')) res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' }).end('{"code":20429,"message":"Too Many Requests","status":429}');
      else res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: 'SM1', status: 'queued' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends *.twilio.com requests to TWILIO_API_URL, under its path', async () => {
    const client = twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient: createTwilioHttpClient(`${url}/proxy/`) });
    const message = await client.messages.create({ from: BOT_NUMBER, to: USER_NUMBER, body: 'hi' });
    expect(message.sid).toBe('SM1');
    expect(seen.at(-1)?.path).toBe(`/proxy/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(seen.at(-1)?.auth).toBe(`Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`);
  });

  it('turns a 429 into RetryAfterError at once (no hidden retries)', async () => {
    const before = seen.length;
    const client = createTwilioHttpClient(url);
    const error = await client.request({ method: 'post', uri: 'https://api.twilio.com/busy' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryAfterError);
    expect((error as RetryAfterError).retryAfterMs).toBe(2000);
    expect(seen.length - before).toBe(1);
  });

  it('throws connection errors without the credentials in them; a refused connection (nothing sent) as a wait', async () => {
    const client = createTwilioHttpClient('http://127.0.0.1:1');
    const error = (await client
      .request({ method: 'post', uri: 'https://api.twilio.com/2010-04-01/x', username: ACCOUNT_SID, password: AUTH_TOKEN })
      .catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(RetryAfterError);
    expect((error as RetryAfterError).retryAfterMs).toBe(PLATFORM_UNREACHABLE_WAIT_MS);
    expect(error.message).toContain('could not be reached (ECONNREFUSED)');
    const everything = JSON.stringify(error, Object.getOwnPropertyNames(error));
    expect(everything).not.toContain(AUTH_TOKEN);
    expect(everything).not.toContain(Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64'));
  });
});

describe('TwiML', () => {
  it('is empty for queue mode, and one <Message> per part for direct mode, dropping what XML cannot carry', () => {
    expect(emptyTwiml()).toEqual({ status: 200, headers: { 'content-type': 'text/xml; charset=utf-8' }, body: '<?xml version="1.0" encoding="UTF-8"?><Response/>' });
    expect(messagesTwiml(['a\u0001b & c', 'second 😀']).body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ab &amp; c</Message><Message>second 😀</Message></Response>',
    );
  });
});
