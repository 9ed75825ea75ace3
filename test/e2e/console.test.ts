/**
 * The operator console over HTTP (no browser): off without ADMIN_TOKEN, sign-in and sessions, the
 * security headers, the JSON API (overview, conversations, dead letters), the live overview over
 * SSE. Real bot servers on loopback (so loopback is shown not to be exempt), the AI faked over HTTP.
 */
import { readdirSync, readFileSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationSummary } from '../../src/conversation-log.js';
import type { ConversationEntry } from '../../src/index.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBot, loadConfig, MemoryQueue, type JobData } from '../../src/index.js';
import type { DeadLetterView, Overview } from '../../src/console/api.js';
import { ConsoleAuth } from '../../src/console/auth.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { until } from '../helpers/until.js';
import { assistantReplies, startWebBot, testEnv, type WebBot } from '../helpers/web-bot.js';

const TOKEN = 'console-admin-token-5f2c9a7e1b';
const OTHER_TOKEN = 'another-admin-token-8d41b0c63e';
const SESSION = /^parley_console=(\d+\.[\w-]+); Path=\/console; HttpOnly; SameSite=Strict; Max-Age=43200$/;

const form = (token: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ token }).toString(),
  redirect: 'manual' as const,
});

/** Sign in through the form; the cookie as a browser sends it back ("parley_console=..."). */
async function signIn(url: string, token = TOKEN): Promise<string> {
  const res = await fetch(`${url}/console/login`, form(token));
  expect(res.status).toBe(303);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

function expectSecured(res: Response): void {
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  // The live overview adds no-transform (an app's compression() middleware must not hold its events).
  expect(res.headers.get('cache-control')).toMatch(/^no-store(, no-transform)?$/);
}

/** A request as the HTTP layer hands it to ConsoleAuth (for cookies made at another time). */
const requestAt = (cookie?: string) => ({ method: 'GET', url: new URL('http://127.0.0.1/console'), headers: cookie ? { cookie } : {}, body: Buffer.alloc(0) });

/** The console's JSON API, signed in with `credentials` (a cookie, or headers of one's own). */
function consoleApi(url: string, credentials: Record<string, string>) {
  return {
    get: (path: string) => fetch(`${url}/console/api${path}`, { headers: credentials }),
    post: (path: string, body: unknown = {}, type = 'application/json') =>
      fetch(`${url}/console/api${path}`, { method: 'POST', headers: { ...credentials, 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    async json<T>(path: string): Promise<T> {
      const res = await this.get(path);
      expect(res.status, `GET ${path}`).toBe(200);
      return (await res.json()) as T;
    },
  };
}

/** The text of a stream until `done` holds of it (or the stream ends). */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, done: (text: string) => boolean): Promise<{ text: string; ended: boolean }> {
  const decoder = new TextDecoder();
  let text = '';
  while (!done(text)) {
    const next = await reader.read();
    if (next.done) return { text, ended: true };
    text += decoder.decode(next.value, { stream: true });
  }
  return { text, ended: false };
}

const overviewEvent = /event: overview\ndata: (.+)\n\n/;

const ASSETS_DIR = new URL('../../src/console/assets/', import.meta.url);
/** The page's scripts: every .js file in src/console/assets. */
const SCRIPTS = readdirSync(ASSETS_DIR).filter((name) => name.endsWith('.js'));

describe('the console is off without ADMIN_TOKEN', () => {
  let ai: FakeOpenAi;
  let web: WebBot;
  beforeAll(async () => {
    ai = await startFakeOpenAi();
    web = await startWebBot({ OPENAI_BASE_URL: ai.url });
  });
  afterAll(async () => {
    await web.close();
    await ai.close();
  });

  it('answers /console, its API and the sign-in with 404 and the hint, whatever the credentials', async () => {
    for (const [path, init] of [
      ['/console', {}],
      ['/console/api/overview', {}],
      ['/console/api/overview', { headers: { authorization: `Bearer ${TOKEN}` } }],
      ['/console/login', form(TOKEN)],
    ] as const) {
      const res = await fetch(`${web.url}${path}`, init);
      expect(res.status, path).toBe(404);
      expectSecured(res);
      expect(res.headers.get('set-cookie')).toBeNull();
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('console_off');
      expect(body.error.message).toMatch(/set ADMIN_TOKEN \(16\+ characters\)/);
    }
  });

  it('mounted in an app, leaves /console to the app while the console is off; on, it is parley\'s', async () => {
    const served = async (adminToken: string | undefined) => {
      const bot = createBot({ config: loadConfig({ ...testEnv, ...(adminToken ? { ADMIN_TOKEN: adminToken } : {}) }), adapters: [] });
      const app = createServer((req, res) => bot.middleware(req, res, () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`the app's ${req.method} ${req.url}`)));
      await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
      try {
        return await Promise.all([fetch(`${url}/console`), fetch(`${url}/console/users`), fetch(`${url}/console/x`, { method: 'POST' })].map(async (answer) => {
          const res = await answer;
          return [res.status, await res.text()] as const;
        }));
      } finally {
        app.close();
        await bot.close();
      }
    };
    expect(await served(undefined)).toEqual([
      [200, "the app's GET /console"],
      [200, "the app's GET /console/users"],
      [200, "the app's POST /console/x"],
    ]);
    // On: the sign-in page, and parley's own 404s below it.
    const on = await served(TOKEN);
    expect(on.map(([status]) => status)).toEqual([200, 404, 404]);
    for (const [, body] of on) expect(body).not.toContain("the app's");
  });

  it('refuses an ADMIN_TOKEN under 16 characters as a configuration error naming the variable', () => {
    expect(() => loadConfig({ ADMIN_TOKEN: 'fifteen-chars!!' })).toThrow(/ADMIN_TOKEN/);
    expect(() => loadConfig({ ADMIN_TOKEN: 'fifteen-chars!!' })).toThrow(/16/);
    // ...without quoting the would-be secret
    expect(() => loadConfig({ ADMIN_TOKEN: 'fifteen-chars!!' })).not.toThrow(/fifteen-chars/);
    expect(loadConfig({ ADMIN_TOKEN: 'sixteen-chars!!!' }).console.adminToken).toBe('sixteen-chars!!!');
  });
});

describe('the operator console over HTTP', () => {
  let ai: FakeOpenAi;
  let web: WebBot;
  let cookie: string;
  let api: ReturnType<typeof consoleApi>;
  /** Messages whose text starts with "outage" fail while this holds. */
  let outage = true;
  const logs: string[] = [];

  beforeAll(async () => {
    ai = await startFakeOpenAi((call) => (outage && lastUserText(call).startsWith('outage') ? { status: 500 } : { text: `echo: ${lastUserText(call)}` }));
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
    web = await startWebBot(
      {
        OPENAI_BASE_URL: ai.url,
        OPENAI_MODEL: 'gpt-4o-mini',
        ADMIN_TOKEN: TOKEN,
        CACHE_TTL_SECONDS: '600',
        RATE_LIMIT_USER_PER_MINUTE: '0',
        JOB_ATTEMPTS: '2',
        AI_ATTEMPTS: '1',
        AI_BREAKER_THRESHOLD: '1000',
      },
      { logger },
    );
    cookie = await signIn(web.url);
    api = consoleApi(web.url, { cookie });
  });
  afterAll(async () => {
    await web?.close();
    await ai?.close();
  });

  /** Send `text` on a fresh conversation and wait for its answer. */
  async function ask(conversation: string, text: string): Promise<void> {
    expect((await web.post(conversation, text)).status).toBe(202);
    await web.waitFor(conversation, (entries) => assistantReplies(entries).length >= 1);
  }

  describe('sign-in and sessions (every request here comes from 127.0.0.1: loopback is not exempt)', () => {
    it('shows the sign-in page to anyone without a session', async () => {
      const res = await fetch(`${web.url}/console`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expectSecured(res);
      const html = await res.text();
      expect(html).toMatch(/<form[^>]*method="post"[^>]*action="\/console\/login"/);
      expect(html).toMatch(/name="token"/);
      expect(html).not.toContain('{{error}}');
    });

    it('answers a wrong token with 401 and the sign-in page saying so, never echoing what was typed', async () => {
      const typed = `<script>alert("x")</script>${TOKEN.slice(0, 8)}`;
      const res = await fetch(`${web.url}/console/login`, form(typed));
      expect(res.status).toBe(401);
      expect(res.headers.get('set-cookie')).toBeNull();
      expectSecured(res);
      const html = await res.text();
      expect(html).toContain('That is not the admin token.');
      expect(html).toMatch(/action="\/console\/login"/);
      expect(html).not.toContain('<script>');
      expect(html).not.toContain(typed);
      // no token at all
      expect((await fetch(`${web.url}/console/login`, { ...form(''), body: '' })).status).toBe(401);
    });

    it('trades the right token for a session cookie (httpOnly, SameSite=Strict, 12 h, on /console only) and a 303 to /console', async () => {
      const res = await fetch(`${web.url}/console/login`, form(TOKEN));
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/console');
      expect(res.headers.get('set-cookie')).toMatch(SESSION);
      expectSecured(res);
      const session = res.headers.get('set-cookie')!.split(';')[0]!;
      // The session opens the API and the app (no sign-in form any more).
      const overview = await fetch(`${web.url}/console/api/overview`, { headers: { cookie: session } });
      expect(overview.status).toBe(200);
      expect(overview.headers.get('content-type')).toMatch(/^application\/json/);
      expectSecured(overview);
      const app = await fetch(`${web.url}/console`, { headers: { cookie: `other=1; ${session}` } });
      expect(app.status).toBe(200);
      expect(await app.text()).not.toMatch(/action="\/console\/login"/);
    });

    it('refuses the API without a session, with 401 and how to sign in', async () => {
      for (const [path, init] of [
        ['/console/api/overview', {}],
        ['/console/api/events', {}],
        ['/console/api/conversations', {}],
        ['/console/api/dead-letters', {}],
        ['/console/api/budgets', {}],
        ['/console/api/alerts', {}],
        ['/console/api/dead-letters/replay-all', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }],
        ['/console/api/dead-letters/purge', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"confirm":"purge"}' }],
      ] as const) {
        const res = await fetch(`${web.url}${path}`, init);
        expect(res.status, path).toBe(401);
        expectSecured(res);
        expect(await res.json()).toMatchObject({ error: { code: 'sign_in_required' } });
      }
    });

    it('refuses a forged, a tampered, a future and an expired session cookie', async () => {
      const value = cookie.slice('parley_console='.length);
      const [issued, signature] = value.split('.') as [string, string];
      const flipped = `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`;
      const elsewhere = new ConsoleAuth(OTHER_TOKEN).signIn(requestAt()).split(';')[0]!;
      const twelveHours = 12 * 3_600_000;
      const expired = new ConsoleAuth(TOKEN).signIn(requestAt(), Date.now() - twelveHours - 1000).split(';')[0]!;
      const future = new ConsoleAuth(TOKEN).signIn(requestAt(), Date.now() + 60_000).split(';')[0]!;
      const refused = {
        'signature of another token': elsewhere,
        'signature changed': `parley_console=${issued}.${flipped}`,
        'time changed': `parley_console=${Number(issued) + 1}.${signature}`,
        'no signature': `parley_console=${issued}`,
        'empty': 'parley_console=',
        'issued 12 h ago': expired,
        'issued in the future': future,
        'the token itself': `parley_console=${TOKEN}`,
      };
      for (const [what, forged] of Object.entries(refused)) {
        expect((await fetch(`${web.url}/console/api/overview`, { headers: { cookie: forged } })).status, what).toBe(401);
        expect(await (await fetch(`${web.url}/console`, { headers: { cookie: forged } })).text(), what).toMatch(/action="\/console\/login"/);
      }
      // A session a minute short of 12 hours is still good.
      const old = new ConsoleAuth(TOKEN).signIn(requestAt(), Date.now() - twelveHours + 60_000).split(';')[0]!;
      expect((await fetch(`${web.url}/console/api/overview`, { headers: { cookie: old } })).status).toBe(200);
    });

    it('keeps the session when another parley_console cookie comes first (a sibling subdomain planting one on a longer path)', async () => {
      const elsewhere = new ConsoleAuth(OTHER_TOKEN).signIn(requestAt()).split(';')[0]!;
      for (const planted of ['parley_console=planted', elsewhere, 'parley_console=']) {
        expect((await fetch(`${web.url}/console/api/overview`, { headers: { cookie: `${planted}; ${cookie}` } })).status, planted).toBe(200);
        expect((await fetch(`${web.url}/console/api/overview`, { headers: { cookie: planted } })).status, planted).toBe(401);
      }
    });

    it('expires a session after 12 hours (ConsoleAuth with a clock)', () => {
      const auth = new ConsoleAuth(TOKEN);
      // 12 hours and a minute ago (a fixed date here would stop being "long ago" on that very day).
      const issuedAt = Date.now() - 12 * 3_600_000 - 60_000;
      const session = auth.signIn(requestAt(), issuedAt).split(';')[0]!;
      expect(session).toBe(`parley_console=${issuedAt}.${session.split('.')[1]}`);
      expect(auth.sessionsOf(requestAt(session))).toEqual([]); // issued long ago, checked now
      expect(new ConsoleAuth(OTHER_TOKEN).sessionsOf(requestAt(cookie))).toEqual([]);
      expect(auth.sessionsOf(requestAt(cookie))).toHaveLength(1);
      // behind https (PUBLIC_URL, or TRUST_PROXY and X-Forwarded-Proto) the cookie is Secure too
      expect(auth.signIn({ ...requestAt(), url: new URL('https://bot.example/console/login') })).toMatch(/; Secure$/);
      expect(auth.signOut({ ...requestAt(), url: new URL('https://bot.example/console/logout') })).toMatch(/Max-Age=0; Secure$/);
    });

    it('takes ADMIN_TOKEN as a bearer token, and refuses a wrong one even beside a good cookie', async () => {
      expect((await fetch(`${web.url}/console/api/overview`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect((await fetch(`${web.url}/console/api/overview`, { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
      for (const authorization of [`Bearer ${OTHER_TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`, TOKEN]) {
        const res = await fetch(`${web.url}/console/api/overview`, { headers: { authorization } });
        expect(res.status, authorization).toBe(401);
      }
      expect((await fetch(`${web.url}/console/api/overview`, { headers: { authorization: `Bearer ${OTHER_TOKEN}`, cookie } })).status).toBe(401);
      // the bearer token works for the API's actions too
      const replay = await fetch(`${web.url}/console/api/dead-letters/nothing-here/replay`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
      expect(replay.status).toBe(404);
    });

    it('signs out by clearing the cookie, and the session is refused afterwards (console-sign-out.test.ts has the rest)', async () => {
      // A session of its own: the file's shared one stays signed in.
      const own = await signIn(web.url);
      const res = await fetch(`${web.url}/console/logout`, { method: 'POST', headers: { cookie: own }, redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/console');
      expect(res.headers.get('set-cookie')).toBe('parley_console=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0');
      expectSecured(res);
      expect((await fetch(`${web.url}/console/api/overview`, { headers: { cookie: own } })).status).toBe(401);
    });

    it("refuses another site's form posting to sign in or out (the browser says sec-fetch-site: cross-site)", async () => {
      const crossSite = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' };
      const out = await fetch(`${web.url}/console/logout`, { method: 'POST', headers: crossSite, redirect: 'manual' });
      expect(out.status).toBe(403);
      expect(out.headers.get('set-cookie')).toBeNull();
      const login = await fetch(`${web.url}/console/login`, { method: 'POST', headers: crossSite, body: new URLSearchParams({ token: TOKEN }).toString(), redirect: 'manual' });
      expect(login.status).toBe(403);
      // The console's own pages post same-origin.
      expect((await fetch(`${web.url}/console/logout`, { method: 'POST', headers: { 'sec-fetch-site': 'same-origin' }, redirect: 'manual' })).status).toBe(303);
    });

    it('signs everyone out when ADMIN_TOKEN changes (another bot with a new token refuses the old session)', async () => {
      const rotated = await startWebBot({ OPENAI_BASE_URL: ai.url, ADMIN_TOKEN: OTHER_TOKEN });
      try {
        expect((await fetch(`${rotated.url}/console/api/overview`, { headers: { cookie } })).status).toBe(401);
        expect((await fetch(`${rotated.url}/console/api/overview`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(401);
        expect(await (await fetch(`${rotated.url}/console`, { headers: { cookie } })).text()).toMatch(/action="\/console\/login"/);
        const fresh = await signIn(rotated.url, OTHER_TOKEN);
        expect((await fetch(`${rotated.url}/console/api/overview`, { headers: { cookie: fresh } })).status).toBe(200);
        // ...and the new session is no good on the bot still on the old token
        expect((await fetch(`${web.url}/console/api/overview`, { headers: { cookie: fresh } })).status).toBe(401);
      } finally {
        await rotated.close();
      }
    });

    it('never logs the admin token, nor a wrong one, at debug level', async () => {
      const wrong = 'wrong-admin-token-77c1e90a4d';
      const start = logs.length;
      expect((await fetch(`${web.url}/console/login`, form(wrong))).status).toBe(401);
      await signIn(web.url);
      expect((await fetch(`${web.url}/console/api/overview`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect((await fetch(`${web.url}/console/api/overview`, { headers: { authorization: `Bearer ${wrong}` } })).status).toBe(401);
      const written = logs.slice(start).join('');
      expect(written).toContain('/console/login'); // the requests were logged...
      expect(written).not.toContain(TOKEN); // ...without the secret
      expect(written).not.toContain(wrong);
      expect(logs.join('')).not.toContain(TOKEN);
    });
  });

  describe('assets and paths', () => {
    it('serves console.js and console.css, nothing else from assets, and 404s unknown paths', async () => {
      const js = await fetch(`${web.url}/console/assets/console.js`);
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
      expectSecured(js);
      await js.text();
      expect((await fetch(`${web.url}/console/assets/console.css`)).headers.get('content-type')).toMatch(/^text\/css/);
      for (const path of ['/console/assets/login.html', '/console/assets/app.html', '/console/assets/..%2Fauth.ts', '/console/assets/%2e%2e/auth.ts', '/console/elsewhere', '/console/api/nothing']) {
        const res = await fetch(`${web.url}${path}`, { headers: { cookie } });
        expect(res.status, path).toBe(404);
        expectSecured(res);
      }
    });

    it('serves every script in src/console/assets as JavaScript, all reached from console.js, and 404s a name off its list', async () => {
      expect(SCRIPTS.length).toBeGreaterThan(1);
      for (const name of SCRIPTS) {
        const res = await fetch(`${web.url}/console/assets/${name}`);
        expect(res.status, name).toBe(200);
        expect(res.headers.get('content-type'), name).toMatch(/^text\/javascript/);
        expectSecured(res);
        expect(await res.text(), name).toBe(readFileSync(new URL(name, ASSETS_DIR), 'utf8'));
      }
      // The module graph from the page's one script: each module imported is one of the files, each file is imported.
      const reached = new Set<string>();
      const walk = (name: string) => {
        if (reached.has(name)) return;
        reached.add(name);
        for (const [, imported] of readFileSync(new URL(name, ASSETS_DIR), 'utf8').matchAll(/^import [^;]+ from '\.\/([\w-]+\.js)';$/gm)) walk(imported!);
      };
      walk('console.js');
      expect([...reached].sort()).toEqual([...SCRIPTS].sort());
      const page = await (await fetch(`${web.url}/console`, { headers: { cookie } })).text();
      for (const name of SCRIPTS.filter((script) => script !== 'console.js')) expect(page).toContain(`<link rel="modulepreload" href="/console/assets/${name}">`);
      for (const name of ['nothing.js', 'console.ts', 'constructor', 'toString', '__proto__', 'hasOwnProperty', 'dom.js.map', '.%2Fapi.js']) {
        const res = await fetch(`${web.url}/console/assets/${name}`, { headers: { cookie } });
        expect(res.status, name).toBe(404);
        expectSecured(res);
      }
    });

    it('answers a malformed id in the path with 400, not as a server failure', async () => {
      const conversation = await api.get('/conversations/%E0%A4%A');
      expect(conversation.status).toBe(400);
      const replay = await api.post('/dead-letters/%E0%A4%A/replay');
      expect(replay.status).toBe(400);
    });

    it('sends a bookmarked or refreshed /console/login back to /console', async () => {
      const res = await fetch(`${web.url}/console/login`, { redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/console');
    });
  });

  describe('actions need application/json (a cross-site form cannot send it)', () => {
    it('answers 415 to a form, plain text or no content type, and does nothing', async () => {
      for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', '']) {
        const res = await fetch(`${web.url}/console/api/dead-letters/purge`, {
          method: 'POST',
          headers: type ? { cookie, 'content-type': type } : { cookie },
          body: type.startsWith('application/x-www') ? 'confirm=purge' : '{"confirm":"purge"}',
        });
        expect(res.status, type || 'no content type').toBe(415);
        expectSecured(res);
        expect(await res.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
      }
      expect((await api.post('/dead-letters/replay-all', '{}', 'text/plain')).status).toBe(415);
      expect((await api.post('/dead-letters/anything/replay', '{}', 'text/plain')).status).toBe(415);
      expect((await api.post('/dead-letters/replay-all', '{}', 'application/json; charset=utf-8')).status).toBe(200);
    });
  });

  describe('the overview moves with the traffic', () => {
    const total = (overview: Overview, field: 'received' | 'answered' | 'apologised' | 'deadLettered') => overview.minutes.reduce((sum, m) => sum + m[field], 0);

    it('counts messages received and answered this minute, the time to reply, the spend by model and the cache', async () => {
      const before = await api.json<Overview>('/overview');
      expect(before.minutes).toHaveLength(60);
      await ask('overview-1', 'what are your opening hours?');
      await ask('overview-2', 'do you ship to Norway?');
      await ask('overview-3', 'what are your opening hours?'); // the same first question: from the cache
      const overview = await until(
        async () => {
          const now = await api.json<Overview>('/overview');
          return total(now, 'received') >= total(before, 'received') + 3 && total(now, 'answered') >= total(before, 'answered') + 3 && now;
        },
        'the overview to count three messages received and answered',
        10_000,
      );
      const minute = new Date().toISOString().slice(0, 16);
      expect([minute, new Date(Date.now() - 60_000).toISOString().slice(0, 16)]).toContain(overview.minutes.at(-1)!.minute);
      expect(overview.minutes.at(-1)!.received + overview.minutes.at(-2)!.received).toBeGreaterThanOrEqual(3);
      expect(overview.replyMs.p50).not.toBeNull();
      expect(overview.replyMs.p95).not.toBeNull();
      expect(overview.replyMs.p95!).toBeGreaterThanOrEqual(overview.replyMs.p50!);
      expect(overview.replyMs.count).toBeGreaterThanOrEqual(3);
      expect(overview.spend.today.totalUsd).toBeGreaterThan(before.spend.today.totalUsd);
      expect(overview.spend.today.byModel['gpt-4o-mini']).toBeGreaterThan(0);
      expect(overview.spend.today.byTenant['-']).toBeGreaterThan(0);
      expect(overview.spend.month.totalUsd).toBeGreaterThanOrEqual(overview.spend.today.totalUsd);
      expect(overview.cache.hits).toBeGreaterThanOrEqual(1);
      expect(overview.cache.misses).toBeGreaterThanOrEqual(2);
      expect(overview.cache.hitRate).toBeGreaterThan(0);
      expect(overview.breaker).toBe('closed');
      expect(overview.queue).toEqual({ waiting: 0, active: 0, delayed: 0, dead: expect.any(Number) });
      expect(Date.parse(overview.at)).toBeGreaterThan(Date.now() - 60_000);
    });
  });

  describe('conversations', () => {
    it('finds a conversation by text and platform, sorts by wait and cost, and opens its transcript', async () => {
      await ask('search-me-1', 'Where is my parcel 7731?');
      const found = await until(
        async () => {
          const res = await api.json<{ conversations: ConversationSummary[]; searchable: boolean }>('/conversations?text=PARCEL%207731&platform=web');
          return res.conversations.length > 0 && res;
        },
        'the conversation in the search',
      );
      expect(found.searchable).toBe(true);
      expect(found.conversations).toEqual([
        expect.objectContaining({ conversationId: 'search-me-1', platform: 'web', user: 'search-me-1', lastInput: 'Where is my parcel 7731?', lastOutput: 'echo: Where is my parcel 7731?', exchanges: 1, models: ['gpt-4o-mini'] }),
      ]);
      expect((await api.json<{ conversations: ConversationSummary[] }>('/conversations?text=parcel%207731&platform=slack')).conversations).toEqual([]);
      expect((await api.json<{ conversations: ConversationSummary[] }>('/conversations?user=search-me-1')).conversations.map((c) => c.conversationId)).toEqual(['search-me-1']);

      for (const sort of ['wait', 'cost'] as const) {
        const { conversations } = await api.json<{ conversations: ConversationSummary[] }>(`/conversations?sort=${sort}&limit=500`);
        expect(conversations.length).toBeGreaterThan(1);
        const keyOf = (c: ConversationSummary) => (sort === 'wait' ? c.maxLatencyMs : c.costUsd);
        expect(conversations.map(keyOf)).toEqual([...conversations.map(keyOf)].sort((a, b) => b - a));
      }
      expect((await api.json<{ conversations: ConversationSummary[] }>('/conversations?limit=1')).conversations).toHaveLength(1);

      const transcript = await api.json<{ conversationId: string; entries: ConversationEntry[] }>('/conversations/search-me-1');
      expect(transcript.conversationId).toBe('search-me-1');
      expect(transcript.entries).toHaveLength(1);
      const [entry] = transcript.entries;
      expect(entry).toMatchObject({ conversationId: 'search-me-1', platform: 'web', input: 'Where is my parcel 7731?', output: 'echo: Where is my parcel 7731?', model: 'gpt-4o-mini' });
      expect(entry!.costUsd).toBeGreaterThan(0);
      expect(entry!.latencyMs).toBeGreaterThanOrEqual(0);
      expect(entry!.inputTokens).toBe(12);
      expect(entry!.outputTokens).toBe(5);
      // an id that needs encoding, and one with no exchanges
      expect((await api.json<{ entries: ConversationEntry[] }>(`/conversations/${encodeURIComponent('no such/conversation')}`)).entries).toEqual([]);
    });
  });

  describe('dead letters', () => {
    async function deadLetters(): Promise<DeadLetterView[]> {
      return (await api.json<{ deadLetters: DeadLetterView[] }>('/dead-letters')).deadLetters;
    }
    async function failOn(conversation: string, text: string): Promise<DeadLetterView> {
      expect((await web.post(conversation, text)).status).toBe(202);
      return until(async () => (await deadLetters()).find((letter) => letter.conversation === conversation), `the dead letter of ${conversation}`);
    }

    it('lists a message the AI outage killed, with the text, reason, error and payload; replays it once the AI is back', async () => {
      outage = true;
      const letter = await failOn('outage-1', 'outage: where is my order?');
      expect(letter).toMatchObject({ platform: 'web', conversation: 'outage-1', user: 'outage-1', text: 'outage: where is my order?', attempts: 2 });
      expect(letter.id).toMatch(/.+/);
      expect(letter.reason).toMatch(/.+/);
      expect(letter.error).toMatch(/500|server/i);
      expect(Date.parse(letter.failedAt)).toBeGreaterThan(Date.now() - 60_000);
      expect(letter.payload).toMatchObject({ type: 'message', message: { platform: 'web', text: 'outage: where is my order?', conversation: { platform: 'web', id: 'outage-1' } } });
      // the person got the apology; the overview counts the dead letter
      await web.waitFor('outage-1', (entries) => assistantReplies(entries).length === 1);
      const overview = await until(async () => {
        const now = await api.json<Overview>('/overview');
        return now.minutes.some((m) => m.deadLettered > 0) && now.minutes.some((m) => m.apologised > 0) && now.queue.dead >= 1 && now;
      }, 'the dead letter and the apology in the overview');
      expect(overview.queue.dead).toBeGreaterThanOrEqual(1);
      // queue mode counts its dead letters too (the overview's minutes and ALERT_DLQ_COUNT read this counter)
      expect(await (await fetch(`${web.url}/metrics`)).text()).toMatch(/^parley_dead_lettered_total\{platform="web",reason="attempts_exhausted"\} [1-9]/m);

      outage = false;
      const replay = await api.post(`/dead-letters/${encodeURIComponent(letter.id)}/replay`);
      expect(replay.status).toBe(200);
      expect(await replay.json()).toEqual({ replayed: true });
      const entries = await web.waitFor('outage-1', (e) => assistantReplies(e).some((r) => r.text === 'echo: outage: where is my order?'));
      expect(assistantReplies(entries)).toHaveLength(2);
      expect((await deadLetters()).map((l) => l.id)).not.toContain(letter.id);
      // replayed already: gone
      expect((await api.post(`/dead-letters/${encodeURIComponent(letter.id)}/replay`)).status).toBe(404);
    });

    it('answers 404 to replaying an unknown id', async () => {
      const res = await api.post('/dead-letters/no-such-letter/replay');
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    });

    it('replays every dead letter at once', async () => {
      outage = true;
      await failOn('outage-2', 'outage two');
      await failOn('outage-3', 'outage three');
      expect((await deadLetters()).length).toBe(2);
      outage = false;
      const res = await api.post('/dead-letters/replay-all');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ replayed: 2 });
      await web.waitFor('outage-2', (e) => assistantReplies(e).some((r) => r.text === 'echo: outage two'));
      await web.waitFor('outage-3', (e) => assistantReplies(e).some((r) => r.text === 'echo: outage three'));
      expect(await deadLetters()).toEqual([]);
      expect(await (await api.post('/dead-letters/replay-all')).json()).toEqual({ replayed: 0 });
    });

    it('purges only with {"confirm":"purge"}', async () => {
      outage = true;
      await failOn('outage-4', 'outage four');
      await failOn('outage-5', 'outage five');
      outage = false;
      for (const body of [{}, { confirm: 'yes' }, { confirm: true }, 'not json', '"purge"', '["purge"]']) {
        const res = await api.post('/dead-letters/purge', body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(await res.json()).toMatchObject({ error: { code: 'confirmation_required' } });
      }
      expect(await deadLetters()).toHaveLength(2);
      const res = await api.post('/dead-letters/purge', { confirm: 'purge' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ purged: 2 });
      expect(await deadLetters()).toEqual([]);
      expect(await web.bot.deadLetters.list()).toEqual([]);
    });

    it('drops one dead letter, and no other, only with {"confirm":"drop"}; logs its id at warn, never its text; 404 once gone', async () => {
      outage = true;
      const kept = await failOn('outage-6', 'outage six');
      const dropped = await failOn('outage-7', 'outage seven: my card ends 4242');
      outage = false;
      const path = `/dead-letters/${encodeURIComponent(dropped.id)}/drop`;
      for (const body of [{}, { confirm: 'purge' }, { confirm: true }, 'not json', '"drop"', '["drop"]']) {
        const res = await api.post(path, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(await res.json()).toMatchObject({ error: { code: 'confirmation_required' } });
      }
      // as every action: JSON only, and the session or the bearer token
      expect((await api.post(path, { confirm: 'drop' }, 'text/plain')).status).toBe(415);
      expect((await fetch(`${web.url}/console/api${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"confirm":"drop"}' })).status).toBe(401);
      expect((await deadLetters()).map((l) => l.id).sort()).toEqual([kept.id, dropped.id].sort());

      const logged = logs.length;
      const res = await api.post(path, { confirm: 'drop' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ dropped: true });
      expect((await deadLetters()).map((l) => l.id)).toEqual([kept.id]);
      expect((await web.bot.deadLetters.list()).map((l) => l.id)).toEqual([kept.id]);
      const lines = logs.slice(logged).map((line) => JSON.parse(line) as { level: number; msg: string; deadLetter?: string });
      const line = lines.find((l) => l.msg === 'dead letter dropped from the console');
      expect(line).toMatchObject({ level: 40, deadLetter: dropped.id });
      expect(lines.filter((l) => l.level > 20).map((l) => JSON.stringify(l)).join('\n')).not.toContain('4242');
      // dropped, not replayed: nothing was queued
      expect(lines.some((l) => /replayed/.test(l.msg))).toBe(false);

      const again = await api.post(path, { confirm: 'drop' });
      expect(again.status).toBe(404);
      expect(await again.json()).toEqual({ error: { code: 'not_found', message: `No dead letter ${dropped.id}.` } });
      const unknown = await api.post('/dead-letters/no-such-letter/drop', { confirm: 'drop' });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ error: { code: 'not_found' } });
      const malformed = await api.post('/dead-letters/%E0%A4%A/drop', { confirm: 'drop' });
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ error: { code: 'malformed_id' } });
      expect((await deadLetters()).map((l) => l.id)).toEqual([kept.id]);
      expect(await (await api.post('/dead-letters/purge', { confirm: 'purge' })).json()).toEqual({ purged: 1 });
    });
  });

  describe('budgets and alerts', () => {
    it('shows the policy, no limits and no alerts when none are set', async () => {
      const fromEnvironment = { dayUsd: 'environment', monthUsd: 'environment', tenantDayUsd: 'environment', tenantMonthUsd: 'environment' };
      expect(await api.json('/budgets')).toEqual({ policy: 'notice', alertWebhook: false, limits: {}, sources: fromEnvironment, environment: {}, setAt: {}, budgets: [], otherBudgets: { count: 0, warning: 0, exceeded: 0 }, limit: 100 });
      expect(await api.json('/alerts')).toMatchObject({ alerts: expect.any(Array) });
    });
  });

  describe('the live overview (server-sent events)', () => {
    it('streams an overview event with the Overview JSON at once', async () => {
      const abort = new AbortController();
      const res = await fetch(`${web.url}/console/api/events`, { headers: { cookie }, signal: abort.signal });
      try {
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
        // nginx passes each overview on at once instead of buffering the stream.
        expect(res.headers.get('x-accel-buffering')).toBe('no');
        expectSecured(res);
        const started = Date.now();
        const { text } = await readUntil(res.body!.getReader(), (t) => overviewEvent.test(t));
        expect(Date.now() - started).toBeLessThan(2000);
        const overview = JSON.parse(overviewEvent.exec(text)![1]!) as Overview;
        expect(overview.minutes).toHaveLength(60);
        expect(overview).toMatchObject({ breaker: 'closed', queue: expect.any(Object), spend: { today: { totalUsd: expect.any(Number) } }, cache: expect.any(Object), replyMs: expect.any(Object) });
      } finally {
        abort.abort();
      }
    });

    it('ends the stream once the session it was opened with has expired (a tab left open past 12 hours)', async () => {
      // A session with a second left of its 12 hours.
      const ending = new ConsoleAuth(TOKEN).signIn(requestAt(), Date.now() - 12 * 3_600_000 + 1000).split(';')[0]!;
      const abort = new AbortController();
      const res = await fetch(`${web.url}/console/api/events`, { headers: { cookie: ending }, signal: abort.signal });
      try {
        expect(res.status).toBe(200);
        const reader = res.body!.getReader();
        await readUntil(reader, (t) => overviewEvent.test(t));
        const rest = await readUntil(reader, () => false);
        expect(rest.ended).toBe(true);
        expect((await fetch(`${web.url}/console/api/events`, { headers: { cookie: ending } })).status).toBe(401);
      } finally {
        abort.abort();
      }
    });

    it('sends the next overview about 2 s later', async () => {
      const abort = new AbortController();
      const res = await fetch(`${web.url}/console/api/events`, { headers: { cookie }, signal: abort.signal });
      try {
        const reader = res.body!.getReader();
        const twice = await readUntil(reader, (t) => (t.match(/event: overview\n/g) ?? []).length >= 2 && /\n\n$/.test(t));
        expect(twice.ended).toBe(false);
      } finally {
        abort.abort();
      }
    });
  });
});

describe('the console on a queue that cannot drop one dead letter (no dropDeadLetter)', () => {
  it('answers drop with 501 drop_unsupported, saying so, and keeps the letter', async () => {
    const queue = new MemoryQueue<JobData>({ attempts: 1, backoffMs: 20, maxBackoffMs: 20 });
    // a JobQueue of one's own written before dropDeadLetter (optional on JobQueue)
    Object.defineProperty(queue, 'dropDeadLetter', { value: undefined });
    const web = await startWebBot({ ADMIN_TOKEN: TOKEN, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }, { queue });
    try {
      const letter = { id: 'old-queue-letter', group: 'old-queue-letter', data: { type: 'notice', conversation: { platform: 'web', id: 'c1' }, reply: { text: 'hi' } } as JobData, error: 'boom', reason: 'attempts_exhausted', attempts: 1, failedAt: new Date().toISOString() };
      await queue.addDeadLetter(letter);
      const api = consoleApi(web.url, { authorization: `Bearer ${TOKEN}` });
      const res = await api.post('/dead-letters/old-queue-letter/drop', { confirm: 'drop' });
      expect(res.status).toBe(501);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('drop_unsupported');
      expect(error.message).toMatch(/cannot drop one dead letter.*dropDeadLetter.*purge/);
      expect((await api.json<{ deadLetters: DeadLetterView[] }>('/dead-letters')).deadLetters.map((l) => l.id)).toEqual(['old-queue-letter']);
    } finally {
      await web.close();
    }
  });
});

describe('closing a bot with a live overview open', () => {
  it('ends the stream and closes promptly', async () => {
    const ai = await startFakeOpenAi();
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, ADMIN_TOKEN: TOKEN });
    try {
      const res = await fetch(`${web.url}/console/api/events`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const reader = res.body!.getReader();
      await readUntil(reader, (t) => overviewEvent.test(t));
      const started = Date.now();
      const closed = web.close();
      const rest = await readUntil(reader, () => false).catch(() => ({ text: '', ended: true }));
      await closed;
      expect(rest.ended).toBe(true);
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await ai.close();
    }
  });
});

describe('sign-in attempts', () => {
  it('after 10 wrong tokens a minute from one address, refuses it with 429 and Retry-After, even the right token', async () => {
    const ai = await startFakeOpenAi();
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, ADMIN_TOKEN: TOKEN });
    try {
      const cookie = await signIn(web.url); // a sign-in that succeeds does not count
      for (let i = 0; i < 10; i++) expect((await fetch(`${web.url}/console/login`, form(`wrong-token-${i}-padding`))).status).toBe(401);
      const refused = await fetch(`${web.url}/console/login`, form(TOKEN));
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.headers.get('set-cookie')).toBeNull();
      expect(await refused.text()).toContain('Too many failed sign-in attempts');
      // A session already given keeps working: only signing in (form or bearer token) is throttled.
      expect((await fetch(`${web.url}/console/api/overview`, { headers: { cookie } })).status).toBe(200);
      // So does the page with every script it loads: assets are not sign-ins and do not count.
      expect((await fetch(`${web.url}/console`, { headers: { cookie } })).status).toBe(200);
      for (const name of SCRIPTS) expect((await fetch(`${web.url}/console/assets/${name}`, { headers: { cookie } })).status, name).toBe(200);
    } finally {
      await web.close();
      await ai.close();
    }
  });

  it("a page of another origin on the same site (a sibling subdomain, another port) cannot sign the operator out, nor spend the operator's address's attempts from the operator's browser", async () => {
    const ai = await startFakeOpenAi();
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, ADMIN_TOKEN: TOKEN });
    // What Chromium sends for fetch(…, { method: 'POST', mode: 'no-cors', body: new URLSearchParams(…) }) from http://127.0.0.1:<another port>.
    const sameSite = (token: string) => {
      const init = form(token);
      return fetch(`${web.url}/console/login`, { ...init, headers: { ...init.headers, 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:1' } });
    };
    try {
      const cookie = await signIn(web.url);
      for (let i = 0; i < 12; i++) expect((await sameSite(`wrong-token-${i}-padding`)).status).toBe(403);
      expect((await sameSite(TOKEN)).status).toBe(403);
      const out = await fetch(`${web.url}/console/logout`, { method: 'POST', headers: { cookie, 'sec-fetch-site': 'same-site' }, redirect: 'manual' });
      expect(out.status).toBe(403);
      expect(out.headers.get('set-cookie')).toBeNull();
      // The operator, on the console's own page, is not locked out.
      const own = form(TOKEN);
      const operator = await fetch(`${web.url}/console/login`, { ...own, headers: { ...own.headers, 'sec-fetch-site': 'same-origin' } });
      expect(operator.status).toBe(303);
      expect(operator.headers.get('set-cookie')).toMatch(SESSION);
    } finally {
      await web.close();
      await ai.close();
    }
  });

  it("behind a proxy (TRUST_PROXY=true) counts the client's forwarded address: one client's wrong guesses never lock out the operator at another", async () => {
    const ai = await startFakeOpenAi();
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, ADMIN_TOKEN: TOKEN, TRUST_PROXY: 'true' });
    const from = (address: string, token: string) => {
      const init = form(token);
      return fetch(`${web.url}/console/login`, { ...init, headers: { ...init.headers, 'x-forwarded-for': `${address}, 10.0.0.1` } });
    };
    try {
      for (let i = 0; i < 12; i++) expect((await from('203.0.113.7', `wrong-token-${i}-padding`)).status).toBeOneOf([401, 429]);
      expect((await from('203.0.113.7', TOKEN)).status).toBe(429);
      const operator = await from('198.51.100.20', TOKEN);
      expect(operator.status).toBe(303);
      expect(operator.headers.get('set-cookie')).toMatch(SESSION);
    } finally {
      await web.close();
      await ai.close();
    }
  });
});
