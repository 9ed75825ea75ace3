/**
 * parley mounted under a path prefix, as users embed it: `app.use('/bot', bot.middleware)` in
 * Express (which takes the prefix off `req.url`), and a PUBLIC_URL with a path behind a proxy that
 * keeps it or strips it, or in a fetch handler that gets the whole URL. Webhooks verify against the
 * URL the platform called (prefix included) and route on the path as mounted; pages, redirects and
 * cookies point below the prefix. Real servers on loopback; Slack, Twilio and the AI are fakes.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { webChat } from '../../adapters/web/index.js';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';

const ADMIN_TOKEN = 'mount-prefix-admin-token-4e1f';

let ai: FakeOpenAi;
let slack: FakeSlack;
let twilioApi: FakeTwilio;

beforeAll(async () => {
  ai = await startFakeOpenAi();
  slack = await startFakeSlack();
  twilioApi = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
});
afterAll(async () => {
  await ai?.close();
  await slack?.close();
  await twilioApi?.close();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...testEnv,
    OPENAI_BASE_URL: ai.url,
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    SLACK_API_URL: slack.url,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_WHATSAPP_FROM: BOT_NUMBER,
    TWILIO_API_URL: twilioApi.url,
    ADMIN_TOKEN,
    ...extra,
  };
}

function botFor(allEnv: Record<string, string>): Bot {
  const config = loadConfig(allEnv);
  return createBot({
    config,
    adapters: [webChat({ page: true, token: config.web.token }), slackAdapter(slackConfigFromEnv(allEnv)!), whatsappAdapter(whatsappConfigFromEnv(allEnv)!)],
  });
}

/** An Express app on loopback with the bot mounted at /bot, and an own route at `/`. */
async function mountInExpress(bot: Bot): Promise<{ base: string; close(): Promise<void> }> {
  const app = express();
  app.get('/', (_req, res) => void res.send('the app itself'));
  app.use('/bot', bot.middleware);
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await bot.ready;
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.close();
      await bot.close();
    },
  };
}

/** Wait until the web chat's transcript of `conversation` holds an answer. */
async function answered(base: string, conversation: string, headers: Record<string, string> = {}): Promise<string> {
  return until(async () => {
    const res = await fetch(`${base}/web/conversations/${conversation}`, { headers });
    const messages = ((await res.json()) as { messages: { role: string; text: string }[] }).messages;
    return messages.find((m) => m.role === 'assistant')?.text;
  }, `an answer in ${conversation}`);
}

describe("Express: app.use('/bot', bot.middleware)", () => {
  let bot: Bot;
  let base: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    bot = botFor(env());
    ({ base, close } = await mountInExpress(bot));
  });
  afterAll(async () => close?.());

  it('serves health below the prefix and leaves the rest of the app to the app', async () => {
    expect((await fetch(`${base}/bot/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/`)).text()).toBe('the app itself');
    // parley's paths outside the prefix are not parley's: Express answers its own 404.
    const outside = await fetch(`${base}/healthz`);
    expect(outside.status).toBe(404);
    expect(outside.headers.get('x-request-id')).toBeNull();
  });

  it('answers a web chat message, and serves the page and its assets below the prefix', async () => {
    const conversation = `mount-${randomBytes(4).toString('hex')}`;
    const posted = await fetch(`${base}/bot/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation, text: 'hello under a prefix' }) });
    expect(posted.status).toBe(202);
    expect(await answered(`${base}/bot`, conversation)).toContain('hello under a prefix');
    const page = await fetch(`${base}/bot/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('src="web/assets/chat.js"');
    expect((await fetch(`${base}/bot/web/assets/chat.js`)).status).toBe(200);
  });

  it('serves every ES module the page and the frame load (chat.js and what it imports) below the prefix, and nothing else', async () => {
    const served = new Set<string>();
    for (const pageUrl of [`${base}/bot/`, `${base}/bot/web/frame`]) {
      const html = await (await fetch(pageUrl)).text();
      expect(html).toMatch(/<script type="module" src="[^"]*chat\.js"><\/script>/);
      const entry = /<script type="module" src="([^"]+)"/.exec(html)![1]!;
      const preloaded = [...html.matchAll(/<link rel="modulepreload" href="([^"]+)"/g)].map((m) => m[1]!);
      // chat.js, then each module's static imports, resolved as the browser does.
      await walkModules([entry, ...preloaded].map((src) => new URL(src, pageUrl).href), served);
    }
    // Every script in adapters/web/assets is reached, all below the prefix.
    const files = readdirSync(new URL('../../adapters/web/assets/', import.meta.url)).filter((name) => name.endsWith('.js'));
    expect([...served].sort()).toEqual(files.map((name) => `${base}/bot/web/assets/${name}`).sort());
    for (const name of ['nope.js', 'chat.ts', '..%2Fembed.ts', '%2e%2e/embed.ts', 'CHAT.JS', 'chat.js%00', 'constructor']) {
      expect((await fetch(`${base}/bot/web/assets/${name}`)).status, name).toBe(404);
    }
  });

  it('redirects /bot to /bot/ (query kept), where the page\'s relative links resolve below the prefix', async () => {
    const bare = await fetch(`${base}/bot?lang=en`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/bot/?lang=en');
    const page = await fetch(new URL(bare.headers.get('location')!, base));
    expect(page.status).toBe(200);
    const css = /href="([^"]+\.css)"/.exec(await page.text())![1]!;
    expect((await fetch(new URL(css, page.url))).status).toBe(200);
  });

  it('takes a signed Slack event at /bot/slack/events and posts the answer', async () => {
    slack.reset();
    const res = await postSlack(`${base}/bot/slack/events`, appMention({ text: '<@UBOT> prefixed mention' }));
    expect(res.status).toBe(200);
    await until(() => slack.callsTo('chat.postMessage').length === 1, 'the answer on Slack');
    expect(String(slack.callsTo('chat.postMessage')[0]?.args.text)).toContain('prefixed mention');
  });

  it('verifies a Twilio signature over the URL Twilio called, prefix included', async () => {
    twilioApi.reset();
    const url = `${base}/bot/twilio/whatsapp`;
    expect((await postTwilio(url, whatsappMessage({ Body: 'whatsapp under a prefix' }))).status).toBe(200);
    await until(() => twilioApi.calls.length === 1, 'the answer on WhatsApp');
    expect(twilioApi.bodies()[0]).toContain('whatsapp under a prefix');
    // Signed for the URL without the prefix: not the URL Twilio called, so refused.
    expect((await postTwilio(url, whatsappMessage(), { signedUrl: `${base}/twilio/whatsapp` })).status).toBe(403);
  });

  it('the console signs in, redirects and sets its cookie below the prefix', async () => {
    const login = await fetch(`${base}/bot/console/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
      redirect: 'manual',
    });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/bot/console');
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toContain('; Path=/bot/console;');
    const page = await fetch(`${base}/bot/console`, { headers: { cookie: cookie.split(';')[0]! } });
    const html = await page.text();
    expect(html).toContain('src="/bot/console/assets/console.js"');
    expect(html).toContain('action="/bot/console/logout"');
    expect(html).not.toContain('"/console/');
    // console.js and every module it imports or the page preloads, resolved as the browser does: all below the prefix.
    const served = new Set<string>();
    await walkModules([...html.matchAll(/<(?:script type="module" src|link rel="modulepreload" href)="([^"]+)"/g)].map((m) => new URL(m[1]!, `${base}/bot/console`).href), served);
    const files = readdirSync(new URL('../../src/console/assets/', import.meta.url)).filter((name) => name.endsWith('.js'));
    expect([...served].sort()).toEqual(files.map((name) => `${base}/bot/console/assets/${name}`).sort());
    expect((await fetch(`${base}/bot/console/api/overview`, { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);
    // Signed out, the sign-in form posts below the prefix too.
    expect(await (await fetch(`${base}/bot/console`)).text()).toContain('action="/bot/console/login"');
  });
});

describe('Slack install under a prefix', () => {
  let base: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const allEnv = env({
      SLACK_BOT_TOKEN: '',
      SLACK_CLIENT_ID: '1111.2222',
      SLACK_CLIENT_SECRET: 'fake-client-secret-0123456789',
      SLACK_STATE_SECRET: 'state-secret-for-tests-0123456789abcdef',
      SLACK_INSTALLATION_KEY: randomBytes(32).toString('base64'),
    });
    ({ base, close } = await mountInExpress(createBot({ config: loadConfig(allEnv), adapters: [slackAdapter(slackConfigFromEnv(allEnv)!)] })));
  });
  afterAll(async () => close?.());

  it('puts the state cookie on /bot/slack and links a failed redirect back below the prefix', async () => {
    const page = await fetch(`${base}/bot/slack/install`);
    expect(page.status).toBe(200);
    expect(page.headers.getSetCookie().find((c) => c.startsWith('slack_oauth_state='))).toContain('; Path=/bot/slack;');
    const href = /<a href="([^"]+)"><img alt="Add to Slack"/.exec(await page.text())![1]!.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
    // No PUBLIC_URL or SLACK_REDIRECT_URI: no redirect_uri, so Slack uses the app's registered one (as Bolt).
    expect(new URL(href).searchParams.has('redirect_uri')).toBe(false);
    // A failed redirect links back to the install page below the prefix.
    const failed = await fetch(`${base}/bot/slack/oauth_redirect?state=x`);
    expect(failed.status).toBe(400);
    expect(await failed.text()).toContain('<a href="/bot/slack/install">');
  });
});

describe('PUBLIC_URL with a path', () => {
  const PUBLIC_URL = 'https://bot.example.com/parley';
  // A public URL: the web chat wants its token (or sessions, signed with WEB_SESSION_SECRET).
  const WEB_TOKEN = 'mount-prefix-web-token-93ac';
  const bearer = { authorization: `Bearer ${WEB_TOKEN}` };
  let bot: Bot;
  let base: string;

  beforeAll(async () => {
    bot = botFor(env({ PUBLIC_URL, WEB_TOKEN, WEB_SESSION_SECRET: 'mount-prefix-web-session-secret-0123456789' }));
    const server = await bot.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await bot.ready;
  });
  afterAll(async () => void (await bot?.close()));

  it('verifies Twilio against PUBLIC_URL + path behind a proxy that keeps the prefix and one that strips it', async () => {
    twilioApi.reset();
    const signedUrl = `${PUBLIC_URL}/twilio/whatsapp`;
    expect((await postTwilio(`${base}/parley/twilio/whatsapp`, whatsappMessage({ Body: 'kept' }), { signedUrl })).status).toBe(200);
    expect((await postTwilio(`${base}/twilio/whatsapp`, whatsappMessage({ Body: 'stripped' }), { signedUrl })).status).toBe(200);
    await until(() => twilioApi.calls.length === 2, 'both answers on WhatsApp');
    const bodies = twilioApi.bodies().join('\n');
    expect(bodies).toContain('kept');
    expect(bodies).toContain('stripped');
  });

  it('redirects the page at PUBLIC_URL\'s path to the path with a slash, in a fetch handler and behind a proxy', async () => {
    const bare = await bot.fetch(new Request('http://internal/parley'));
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/parley/');
    expect((await bot.fetch(new Request('http://internal/parley/'))).status).toBe(200);
    // A proxy that keeps the prefix passes /parley on; one that strips it passes `/`: the page.
    const kept = await fetch(`${base}/parley`, { redirect: 'manual' });
    expect([kept.status, kept.headers.get('location')]).toEqual([308, '/parley/']);
    expect((await fetch(`${base}/`)).status).toBe(200);
  });

  it('routes the whole URL a fetch handler gets (Next.js, Hono), and health either way', async () => {
    const conversation = `fetch-${randomBytes(4).toString('hex')}`;
    const res = await bot.fetch(
      new Request('http://internal/parley/web/messages', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer }, body: JSON.stringify({ conversation, text: 'through fetch' }) }),
    );
    expect(res.status).toBe(202);
    expect(await answered(`${base}/parley`, conversation, bearer)).toContain('through fetch');
    expect((await fetch(`${base}/parley/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});

/** Fetch each module and, in turn, its static imports (resolved as the browser does); each must be JavaScript. Adds every URL served to `served`. */
async function walkModules(start: string[], served: Set<string>): Promise<void> {
  const queue = [...start];
  for (let url = queue.shift(); url; url = queue.shift()) {
    if (served.has(url)) continue;
    const res = await fetch(url);
    expect(res.status, url).toBe(200);
    expect(res.headers.get('content-type'), url).toMatch(/^text\/javascript/);
    served.add(url);
    for (const m of (await res.text()).matchAll(/^import [^;]+ from '([^']+)';$/gm)) queue.push(new URL(m[1]!, url).href);
  }
}
