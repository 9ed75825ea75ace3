/**
 * X-Twilio-Webhooks-Signature-Settings names the algorithm a webhook was signed with. The twilio
 * SDK writes a console.warn quoting any algorithm it does not know, before checking a signature:
 * parley refuses such a header itself, with a 403 and one line through its own logger.
 */
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { whatsappAdapter } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { inProcessFetch, type FetchLike } from '../helpers/in-process.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, OLD_AUTH_TOKEN, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { testEnv } from '../helpers/web-bot.js';

const URL = 'http://127.0.0.1/twilio/whatsapp';

describe('the Twilio signature settings header', () => {
  const lines: Record<string, unknown>[] = [];
  let bot: Bot;
  let send: FetchLike;
  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const adapter = whatsappAdapter({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN, OLD_AUTH_TOKEN], from: BOT_NUMBER, apiUrl: 'http://127.0.0.1:13601' });
    bot = createBot({ config: loadConfig(testEnv), adapters: [adapter], worker: false, logger });
    await bot.ready;
    send = inProcessFetch(bot);
  });
  afterAll(async () => void (await bot.close()));
  afterEach(() => {
    vi.restoreAllMocks();
    lines.length = 0;
  });

  it('refuses an algorithm the SDK does not support with 403 and one warn line, never the SDK’s console.warn', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const res = await postTwilio(URL, whatsappMessage(), { fetch: send, headers: { 'x-twilio-webhooks-signature-settings': 'key=webhooks_sharedkey_x,algorithm=FAKE' } });
    expect(res.status).toBe(403);
    expect(warn).not.toHaveBeenCalled();
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsupported_signature_algorithm');
    const refusals = lines.filter((line) => line.reason === 'unsupported_signature_algorithm');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ level: 40, platform: 'whatsapp', status: 403 });
  });

  it('still takes a properly signed request: without the header, and with HMAC_SHA1 or HMAC_SHA256 named in it', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect((await postTwilio(URL, whatsappMessage(), { fetch: send })).status).toBe(200);
    for (const algorithm of ['HMAC_SHA1', 'HMAC_SHA256', 'hmac_sha256']) {
      const headers = { 'x-twilio-webhooks-signature-settings': `key=webhooks_sharedkey_x,algorithm=${algorithm}` };
      expect((await postTwilio(URL, whatsappMessage(), { fetch: send, algorithm, headers })).status, algorithm).toBe(200);
    }
    // Signed with SHA-1 while the header says SHA-256: a bad signature, as before.
    const mismatched = await postTwilio(URL, whatsappMessage(), { fetch: send, headers: { 'x-twilio-webhooks-signature-settings': 'algorithm=HMAC_SHA256' } });
    expect(mismatched.status).toBe(403);
    expect(warn).not.toHaveBeenCalled();
  });
});
