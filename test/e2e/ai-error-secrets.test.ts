/**
 * A provider whose error text quotes the API key back (`Authorization: Bearer <key>`): the key is
 * neither logged nor kept in the dead letter's error, `<hidden>` stands in its place. So too for
 * credentials parley never configured that the error quotes (a URL's password, a proxy's token).
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

const KEY = 'sk-test-QuotedBackKey0123456789';

describe('a provider error quoting the key', () => {
  let ai: FakeOpenAi | undefined;
  let web: WebBot | undefined;
  afterEach(async () => {
    await web?.close();
    await ai?.close();
    web = ai = undefined;
  });

  it.each([500, 400])('answering %i: the log and the dead letter hold <hidden>, not the key', async (status) => {
    ai = await startFakeOpenAi(() => ({
      status,
      body: { error: { message: `Bad request headers: {"Authorization": "Bearer ${KEY}"}`, type: 'invalid_request_error' } },
    }));
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: KEY, AI_ATTEMPTS: '1', JOB_ATTEMPTS: '1' }, { logger });
    await web.post(`quoted-${status}`, 'hello?');
    await web.waitFor(`quoted-${status}`, (e) => assistantReplies(e).length === 1);
    const bot = web.bot;
    const [letter] = await until(async () => {
      const letters = await bot.deadLetters.list();
      return letters.length === 1 && letters;
    }, 'the dead letter');
    expect(letter!.error).toContain(`AI provider answered ${status}`);
    expect(letter!.error).toContain('Bearer <hidden>');
    expect(letter!.error).not.toContain(KEY);
    expect(ai.calls[0]!.key).toBe(KEY);
    const logged = lines.join('\n');
    expect(logged).toContain('Bearer <hidden>');
    expect(logged).not.toContain(KEY);
  });

  it("a URL's password and a proxy's token parley never configured: the log and the dead letter hold <hidden>", async () => {
    const password = 'p4ssw0rd-NeverConfigured';
    const proxyToken = 'proxy-token-NeverConfigured';
    ai = await startFakeOpenAi(() => ({
      status: 500,
      body: { error: { message: `upstream postgres://svc:${password}@db.internal:5432/usage down; sent "authorization":"Bearer ${proxyToken}"`, type: 'server_error' } },
    }));
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: KEY, AI_ATTEMPTS: '1', JOB_ATTEMPTS: '1' }, { logger });
    await web.post('unconfigured', 'hello?');
    await web.waitFor('unconfigured', (e) => assistantReplies(e).length === 1);
    const bot = web.bot;
    const [letter] = await until(async () => {
      const letters = await bot.deadLetters.list();
      return letters.length === 1 && letters;
    }, 'the dead letter');
    expect(letter!.error).toContain('postgres://svc:<hidden>@db.internal:5432/usage');
    expect(letter!.error).toContain('Bearer <hidden>');
    const logged = lines.join('\n');
    expect(logged).toContain('postgres://svc:<hidden>@db.internal:5432/usage');
    for (const text of [letter!.error, logged]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(proxyToken);
    }
  });
});
