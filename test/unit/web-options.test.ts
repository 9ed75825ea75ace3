/**
 * webChat()'s keys given in code are checked as WEB_TOKEN, WEB_SESSION_SECRET and
 * WEB_ALLOWED_ORIGINS are from the environment: a weak one is a ConfigError, never served.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { webChat } from '../../adapters/web/index.js';
import { ConfigError, createBot, loadConfig } from '../../src/index.js';
import { testEnv } from '../helpers/web-bot.js';

const SECRET = 's'.repeat(32);

describe('webChat options', () => {
  it.each([
    ['a short token', { token: 'a' }, /option token is invalid.*16/],
    ['a short session secret', { sessionSecret: 'x' }, /option sessionSecret is invalid.*32/],
    ['a short secret in a rotation list', { sessionSecret: [SECRET, 'short'] }, /option sessionSecret is invalid/],
    ['a wildcard origin', { allowedOrigins: ['*'] }, /option allowedOrigins is invalid.*wildcard/],
    ['an origin with a path', { allowedOrigins: ['https://ok.com/path'] }, /option allowedOrigins is invalid.*path/],
    ['not a URL', { allowedOrigins: ['not a url'] }, /option allowedOrigins is invalid.*not a URL/],
  ])('refuses %s with a ConfigError naming the option, never its value', (_name, options, message) => {
    let thrown: unknown;
    try {
      webChat(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(message);
    if ('token' in options) expect((thrown as Error).message).not.toContain(`'${options.token}'`);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31])('refuses streamHeartbeatMs %s with a ConfigError (a timer would run it at once)', (streamHeartbeatMs) => {
    expect(() => webChat({ streamHeartbeatMs })).toThrow(ConfigError);
    expect(() => webChat({ streamHeartbeatMs })).toThrow(/streamHeartbeatMs must be milliseconds between 1 and 3600000/);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 86_400_001])('refuses streamMaxAgeMs %s with a ConfigError', (streamMaxAgeMs) => {
    expect(() => webChat({ streamMaxAgeMs })).toThrow(ConfigError);
    expect(() => webChat({ streamMaxAgeMs })).toThrow(/streamMaxAgeMs must be milliseconds between 1 and 86400000/);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses maxTranscript %s with a ConfigError (the store takes a cap of 0 as none: it would grow without end)', (maxTranscript) => {
    expect(() => webChat({ maxTranscript })).toThrow(ConfigError);
    expect(() => webChat({ maxTranscript })).toThrow(/maxTranscript must be a whole number of entries, 1 or more/);
  });

  it.each([0, -5, 2.5])('refuses maxTextLength %s with a ConfigError', (maxTextLength) => {
    expect(() => webChat({ maxTextLength })).toThrow(/maxTextLength must be a whole number of characters, 1 or more/);
  });

  it('takes good keys, a rotation list, and origins as the variable writes them', () => {
    expect(() => webChat({ token: 't'.repeat(16), sessionSecret: [SECRET, 'o'.repeat(32)], allowedOrigins: ['https://www.example.com/', 'http://localhost:8080'] })).not.toThrow();
    expect(() => webChat({ token: undefined, sessionSecret: undefined })).not.toThrow();
    // Empty is unset, as an empty variable is.
    for (const empty of [{ token: '' }, { token: '   ' }, { sessionSecret: '' }, { sessionSecret: [] }]) expect(() => webChat(empty)).not.toThrow();
  });

  /** The status `request` gets from a started bot whose web chat has `options`, with `env`. */
  async function answered(env: Record<string, string>, options: Parameters<typeof webChat>[0], request: Request): Promise<number> {
    const bot = createBot({ config: loadConfig({ ...testEnv, HOST: '127.0.0.1', ...env }), adapters: [webChat(options)], logger: pino({ level: 'silent' }) });
    try {
      await bot.start();
      return (await bot.fetch(request, { remoteAddress: '127.0.0.1' })).status;
    } finally {
      await bot.close();
    }
  }

  it('an empty key leaves WEB_TOKEN and WEB_SESSION_SECRET to apply, as no option does', async () => {
    const token = 't'.repeat(24);
    const operator = () => new Request('http://127.0.0.1/web/conversations', { headers: { authorization: `Bearer ${token}` } });
    expect(await answered({ WEB_TOKEN: token }, { token: '' }, operator())).toBe(200);
    const publicEnv = { WEB_SESSION_SECRET: 's'.repeat(40), PUBLIC_URL: 'https://chat.example.com' };
    expect(await answered(publicEnv, { sessionSecret: '' }, new Request('http://127.0.0.1/web/sessions', { method: 'POST' }))).toBe(201);
    // No WEB_TOKEN on loopback: this machine may chat, with a blank token as without one.
    expect(await answered({}, { token: '   ' }, new Request('http://127.0.0.1/web/conversations'))).toBe(200);
  });
});
