/**
 * Installing the Slack app in workspaces (OAuth v2), end to end: a real bot server on a real Redis,
 * the fake Slack Web API (which serves oauth.v2.access) and the fake AI. The browser's part is
 * played by fetch: the install page sets the state cookie and links to Slack's authorize URL;
 * Slack's redirect comes back with a code and the state. The same flow runs through `bot.fetch`
 * (a Request, no Node server) and the Lambda handler.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ClearStateStore } from '@slack/oauth';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SLACK_SCOPES } from '../../adapters/slack/config.js';
import { keyId } from '../../adapters/slack/installation-crypto.js';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { lambdaHandler } from '../../aws/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { httpApiEvent } from '../helpers/lambda-events.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';
import { REDIS_URL, keysWithPrefix, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const CLIENT_ID = '1111.2222';
const CLIENT_SECRET = 'fake-client-secret-0123456789';
const STATE_SECRET = 'state-secret-for-tests-0123456789abcdef';
const KEY = randomBytes(32);
const TEAM = `T0${randomUUID().slice(0, 8).toUpperCase()}`;
const BETA = `T1${randomUUID().slice(0, 8).toUpperCase()}`;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** The state cookie a response sets (its value and its attributes). */
function stateCookie(answer: Answer): { value: string; attributes: string } {
  const header = answer.headers.getSetCookie().find((c) => c.startsWith('slack_oauth_state='));
  expect(header, 'the slack_oauth_state cookie').toBeDefined();
  const [pair, ...attributes] = header!.split(';').map((s) => s.trim());
  return { value: pair!.slice('slack_oauth_state='.length), attributes: attributes.join('; ') };
}

/** The "Add to Slack" link of the install page. */
function authorizeUrl(answer: Answer): URL {
  const href = /<a href="([^"]+)"><img alt="Add to Slack"/.exec(answer.text)?.[1];
  expect(href, 'the Add to Slack link').toBeDefined();
  return new URL(href!.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))));
}

describe('Slack OAuth install, end to end (Redis, fake Slack)', () => {
  const prefix = uniquePrefix();
  const redis = useRedis(prefix);
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  let installations: ParleyInstallationStore;
  const lines: string[] = [];
  const consoleOutput: string[] = [];
  const secretsSeen = new Set<string>([CLIENT_SECRET, STATE_SECRET]);
  const installationKeysInRedis = () => keysWithPrefix(redis.admin(), `${prefix}:parley:slack:installation:`);

  const env = (extra: Record<string, string> = {}) => ({
    SLACK_BOT_TOKEN: '',
    SLACK_CLIENT_ID: CLIENT_ID,
    SLACK_CLIENT_SECRET: CLIENT_SECRET,
    SLACK_STATE_SECRET: STATE_SECRET,
    SLACK_INSTALLATION_KEY: KEY.toString('base64'),
    REDIS_URL,
    REDIS_PREFIX: prefix,
    ...extra,
  });
  const logger = () => pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });

  /** GET through the Node server, with a cookie when given. */
  async function get(path: string, cookie?: string): Promise<Answer> {
    const res = await fetch(`${server.base}${path}`, { headers: cookie ? { cookie: `other=1; slack_oauth_state=${cookie}` } : {}, redirect: 'manual' });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  /** Open the install page: the state (as in the link) and the cookie set with it. */
  async function startInstall(): Promise<{ state: string; cookie: string; url: URL }> {
    const page = await get('/slack/install');
    expect(page.status).toBe(200);
    const url = authorizeUrl(page);
    const cookie = stateCookie(page).value;
    const state = url.searchParams.get('state')!;
    secretsSeen.add(state);
    return { state, cookie, url };
  }

  beforeAll(async () => {
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void consoleOutput.push(args.map(String).join(' ')));
    }
    slack = await startFakeSlack({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, teamId: TEAM, tokenRotation: true });
    ai = await startFakeOpenAi();
    server = await startSlackBot(slack, ai, env(), undefined, { bot: { logger: logger() } });
    installations = new ParleyInstallationStore({ store: server.bot.store, keys: [KEY] });
  });
  afterAll(async () => {
    await server?.close();
    await slack?.close();
    await ai?.close();
    vi.restoreAllMocks();
  });
  afterEach(() => slack.reset());

  it('the install page sets an HttpOnly state cookie and links to slack.com/oauth/v2/authorize with that state', async () => {
    const page = await get('/slack/install');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const cookie = stateCookie(page);
    expect(cookie.attributes).toBe('Path=/slack; HttpOnly; SameSite=Lax; Max-Age=600'); // http here: no Secure
    const url = authorizeUrl(page);
    expect(`${url.origin}${url.pathname}`).toBe('https://slack.com/oauth/v2/authorize');
    // No PUBLIC_URL or SLACK_REDIRECT_URI: no redirect_uri (Slack uses the app's registered one), as Bolt does.
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: CLIENT_ID,
      scope: DEFAULT_SLACK_SCOPES,
      state: cookie.value,
    });
    secretsSeen.add(cookie.value);
    // A new state every time.
    const again = stateCookie(await get('/slack/install')).value;
    expect(again).not.toBe(cookie.value);
    secretsSeen.add(again);
  });

  it('refuses a forged, foreign, missing or expired state with a 400, and stores nothing', async () => {
    const before = await installationKeysInRedis();
    const mine = await startInstall();
    const other = await startInstall();
    const forged = await new ClearStateStore('not-the-state-secret-0123456789abcdef').generateStateParam({ scopes: ['chat:write'] }, new Date());
    const expired = await new ClearStateStore(STATE_SECRET).generateStateParam({ scopes: ['chat:write'] }, new Date(Date.now() - 11 * 60_000));
    const [head, payload, signature] = mine.state.split('.');
    const tampered = `${head}.${payload!.slice(0, -2)}${payload!.slice(-2) === 'fQ' ? 'fA' : 'fQ'}.${signature}`;
    const attempts: [string, string, string | undefined][] = [
      ['a state signed with another secret (and the cookie to match)', forged, forged],
      ['a tampered state (and the cookie to match)', tampered, tampered],
      ['an expired state (and the cookie to match)', expired, expired],
      ["another browser's state with this browser's cookie", other.state, mine.cookie],
      ['a valid state without the cookie', mine.state, undefined],
      ['no state at all', '', mine.cookie],
    ];
    for (const [what, state, cookie] of attempts) {
      const res = await get(`/slack/oauth_redirect?code=code-forged-${randomUUID()}${state ? `&state=${encodeURIComponent(state)}` : ''}`, cookie);
      expect(res.status, what).toBe(400);
      expect(res.text, what).toContain('Invalid state');
      expect(stateCookie(res).attributes, `${what}: the cookie is cleared`).toContain('Max-Age=0');
    }
    expect(slack.callsTo('oauth.v2.access')).toHaveLength(0);
    expect(await installationKeysInRedis()).toEqual(before);
  });

  it('installs: the code is exchanged through SLACK_API_URL and the installation stored, with its refresh token', async () => {
    const { state, cookie } = await startInstall();
    const res = await get(`/slack/oauth_redirect?code=code-alpha-1&state=${encodeURIComponent(state)}`, cookie);
    expect(res.status).toBe(200);
    expect(res.text).toContain('parley is installed in Parley Test');
    // The state is spent: the cookie now holds a mark of it, which no redirect can pass as a state.
    expect(stateCookie(res).value).toMatch(/^done\./);
    expect(stateCookie(res).value).not.toContain(state);
    // The exchange went to the fake (SLACK_API_URL), with the app's credentials and, as the authorize URL, no redirect_uri.
    const [exchange] = slack.callsTo('oauth.v2.access');
    expect(exchange!.args).toMatchObject({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, code: 'code-alpha-1' });
    expect(exchange!.args).not.toHaveProperty('redirect_uri');
    const installation = await installations.fetchInstallation({ teamId: TEAM, enterpriseId: undefined, isEnterpriseInstall: false });
    expect(installation).toMatchObject({ team: { id: TEAM, name: 'Parley Test' }, appId: 'A0PARLEY', isEnterpriseInstall: false, authVersion: 'v2', user: { id: 'U0ALICE' } });
    expect(installation.bot).toMatchObject({ token: expect.stringMatching(/^xoxb-/), userId: 'UBOT', id: 'BBOT', refreshToken: expect.stringMatching(/^xoxe-1-/) });
    expect(installation.bot!.expiresAt! - Date.now() / 1000).toBeGreaterThan(43_000);
    // auth.test, for the bot id, went to the fake with the new token.
    expect(slack.callsTo('auth.test').map((c) => c.token)).toEqual([installation.bot!.token]);
    secretsSeen.add(installation.bot!.token).add(installation.bot!.refreshToken!);
  });

  it('the success page opened again (a reload, Back then Forward) says it is installed, and exchanges and stores nothing', async () => {
    const { state, cookie } = await startInstall();
    const path = `/slack/oauth_redirect?code=code-alpha-again&state=${encodeURIComponent(state)}`;
    const first = await get(path, cookie);
    expect(first.status).toBe(200);
    expect(first.text).toContain('parley is installed in Parley Test');
    const done = stateCookie(first);
    const installation = await installations.fetchInstallation({ teamId: TEAM, enterpriseId: undefined, isEnterpriseInstall: false });
    secretsSeen.add(installation.bot!.token).add(installation.bot!.refreshToken!);
    const stored = await redis.admin().get(`${prefix}:parley:slack:installation:-:${TEAM}`);
    for (const attempt of ['a reload', 'Back then Forward']) {
      const again = await get(path, done.value);
      expect(again.status, attempt).toBe(200);
      expect(again.text, attempt).toContain('Already installed');
      expect(again.text, attempt).not.toContain('Invalid state');
      expect(again.headers.getSetCookie(), `${attempt}: the mark is kept`).toEqual([]);
    }
    expect(slack.callsTo('oauth.v2.access').map((c) => c.args.code)).toEqual(['code-alpha-again']);
    expect(await redis.admin().get(`${prefix}:parley:slack:installation:-:${TEAM}`)).toBe(stored);
    expect(done.attributes).toBe('Path=/slack; HttpOnly; SameSite=Lax; Max-Age=3600');
    // The mark lets nothing else through: another state, or the mark passed as the state itself.
    const other = await startInstall();
    for (const [what, query] of [
      ['another state beside the mark', `code=code-x&state=${encodeURIComponent(other.state)}`],
      ['the mark as the state', `code=code-y&state=${encodeURIComponent(done.value)}`],
    ]) {
      const res = await get(`/slack/oauth_redirect?${query}`, done.value);
      expect(res.status, what).toBe(400);
      expect(res.text, what).toContain('Invalid state');
    }
    expect(slack.callsTo('oauth.v2.access')).toHaveLength(1);
  });

  it('a workspace installed this way is answered with its own token', async () => {
    const installation = await installations.fetchInstallation({ teamId: TEAM, enterpriseId: undefined, isEnterpriseInstall: false });
    const res = await postSlack(server.url, appMention({ team: TEAM, text: 'hello after install' }));
    expect(res.status).toBe(200);
    const [post] = await until(() => (slack.callsTo('chat.postMessage').length ? slack.callsTo('chat.postMessage') : undefined), 'the reply');
    expect(post!.args.text).toBe('echo: hello after install');
    expect(post!.token).toBe(installation.bot!.token);
  });

  it('the raw Redis value holds no token in the clear', async () => {
    const raw = await redis.admin().get(`${prefix}:parley:slack:installation:-:${TEAM}`);
    expect(raw).toBeTruthy();
    for (const secret of secretsSeen) expect(raw).not.toContain(secret);
    expect(raw).not.toMatch(/xox[a-z]-/);
    expect(JSON.parse(raw!)).toMatchObject({ v: 1, key: keyId(KEY) });
  });

  it('a code Slack refuses (used twice) is a 400 and stores nothing new', async () => {
    const before = await redis.admin().get(`${prefix}:parley:slack:installation:-:${TEAM}`);
    const { state, cookie } = await startInstall();
    const res = await get(`/slack/oauth_redirect?code=code-alpha-1&state=${encodeURIComponent(state)}`, cookie);
    expect(res.status).toBe(400);
    expect(res.text).toContain('Slack refused the installation (code_already_used)');
    expect(await redis.admin().get(`${prefix}:parley:slack:installation:-:${TEAM}`)).toBe(before);
  });

  it('a state cookie another host of the site planted first (on a longer path) does not refuse the install this browser started', async () => {
    const { state, cookie } = await startInstall();
    const res = await get(`/slack/oauth_redirect?code=code-alpha-1&state=${encodeURIComponent(state)}`, `planted; slack_oauth_state=${cookie}`);
    // Past the state check: Slack's own refusal of the used code, not "Invalid state".
    expect(res.text).toContain('Slack refused the installation (code_already_used)');
    const planted = await get(`/slack/oauth_redirect?code=code-planted&state=${encodeURIComponent(state)}`, 'planted');
    expect(planted.status).toBe(400);
    expect(planted.text).toContain('Invalid state');
  });

  it("a grant of user scopes only (no bot token: the link's scope swapped for user_scope) is a 400 and keeps the workspace's installation", async () => {
    const before = await redis.admin().get(`${prefix}:parley:slack:installation:-:${TEAM}`);
    expect(before).toBeTruthy();
    slack.on('oauth.v2.access', () => ({
      body: { ok: true, app_id: 'A0PARLEY', authed_user: { id: 'U0BOB', scope: 'identify', access_token: 'xoxp-bob-user-token', token_type: 'user' }, team: { id: TEAM, name: 'Parley Test' }, enterprise: null, is_enterprise_install: false },
    }));
    secretsSeen.add('xoxp-bob-user-token');
    const { state, cookie } = await startInstall();
    const res = await get(`/slack/oauth_redirect?code=code-user-only&state=${encodeURIComponent(state)}`, cookie);
    const after = await redis.admin().get(`${prefix}:parley:slack:installation:-:${TEAM}`);
    // Put back for the tests that follow should it have been replaced.
    if (after !== before) await redis.admin().set(`${prefix}:parley:slack:installation:-:${TEAM}`, before!);
    expect(res.status).toBe(400);
    expect(res.text).toContain('Slack granted no bot token');
    expect(stateCookie(res).attributes).toContain('Max-Age=0');
    expect(after).toBe(before);
  });

  it('a cancelled installation (access_denied) stores nothing', async () => {
    const before = await installationKeysInRedis();
    const { state, cookie } = await startInstall();
    const res = await get(`/slack/oauth_redirect?error=access_denied&state=${encodeURIComponent(state)}`, cookie);
    expect(res.status).toBe(200);
    expect(res.text).toContain('The installation was cancelled');
    expect(slack.callsTo('oauth.v2.access')).toHaveLength(0);
    expect(await installationKeysInRedis()).toEqual(before);
  });

  it('installs through bot.fetch (a Request, no Node server): another workspace, its own token', async () => {
    slack.on('oauth.v2.access', (call) =>
      call.args.code === 'code-beta'
        ? {
            body: {
              ok: true,
              access_token: 'xoxb-beta-installed-token',
              token_type: 'bot',
              scope: 'chat:write',
              bot_user_id: 'UBOTBETA',
              app_id: 'A0PARLEY',
              team: { id: BETA, name: 'Beta <Corp>' },
              enterprise: null,
              is_enterprise_install: false,
              authed_user: { id: 'U0BOB' },
            },
          }
        : undefined,
    );
    secretsSeen.add('xoxb-beta-installed-token');
    const page = await server.bot.fetch(new Request('https://bot.example.com/slack/install'));
    expect(page.status).toBe(200);
    const answer = { status: page.status, headers: page.headers, text: await page.text() };
    const cookie = stateCookie(answer);
    expect(cookie.attributes).toBe('Path=/slack; HttpOnly; SameSite=Lax; Max-Age=600; Secure');
    const url = authorizeUrl(answer);
    expect(url.searchParams.has('redirect_uri')).toBe(false);
    const back = await server.bot.fetch(
      new Request(`https://bot.example.com/slack/oauth_redirect?code=code-beta&state=${encodeURIComponent(url.searchParams.get('state')!)}`, { headers: { cookie: `slack_oauth_state=${cookie.value}` } }),
    );
    expect(back.status).toBe(200);
    expect(await back.text()).toContain('parley is installed in Beta &#60;Corp&#62;'); // escaped
    expect(slack.callsTo('oauth.v2.access')[0]!.args).not.toHaveProperty('redirect_uri');
    const beta = await installations.fetchInstallation({ teamId: BETA, enterpriseId: undefined, isEnterpriseInstall: false });
    expect(beta.bot).toMatchObject({ token: 'xoxb-beta-installed-token', userId: 'UBOTBETA' });
    expect(beta.bot!.refreshToken).toBeUndefined(); // no token rotation in this answer
    // Both workspaces are installed, each with its own token.
    expect((await installations.fetchInstallation({ teamId: TEAM, enterpriseId: undefined, isEnterpriseInstall: false })).bot!.token).not.toBe(beta.bot!.token);
  });

  it('installs through the Lambda handler (HTTP API events, cookies both ways)', async () => {
    const handler = lambdaHandler(server.bot);
    const page = await handler(httpApiEvent({ method: 'GET', path: '/slack/install', headers: {}, body: '' }));
    expect(page.statusCode).toBe(200);
    const setCookie = (page as { cookies?: string[] }).cookies?.find((c) => c.startsWith('slack_oauth_state='));
    expect(setCookie).toContain('HttpOnly');
    const cookie = setCookie!.split(';')[0]!;
    const state = authorizeUrl({ status: 200, headers: new Headers(), text: page.body }).searchParams.get('state')!;
    secretsSeen.add(state);
    const forged = await handler(httpApiEvent({ method: 'GET', path: '/slack/oauth_redirect', query: `code=code-lambda-0&state=${encodeURIComponent(state)}`, headers: {}, body: '' }));
    expect(forged.statusCode).toBe(400); // no cookie
    const back = await handler(httpApiEvent({ method: 'GET', path: '/slack/oauth_redirect', query: `code=code-lambda-1&state=${encodeURIComponent(state)}`, headers: { cookie }, body: '' }));
    expect(back.statusCode).toBe(200);
    expect(slack.callsTo('oauth.v2.access').map((c) => c.args.code)).toEqual(['code-lambda-1']);
    const installation = await installations.fetchInstallation({ teamId: TEAM, enterpriseId: undefined, isEnterpriseInstall: false });
    expect(installation.bot!.token).toMatch(/^xoxb-/);
    secretsSeen.add(installation.bot!.token).add(installation.bot!.refreshToken!);
  });

  it('a reinstall is used at once: the next reply goes with the new token, not the installation this process had cached', async () => {
    const teamQuery = { teamId: TEAM, enterpriseId: undefined, isEnterpriseInstall: false } as const;
    const before = (await installations.fetchInstallation(teamQuery)).bot!.token;
    const reply = async (text: string) => {
      slack.reset();
      expect((await postSlack(server.url, appMention({ team: TEAM, text }))).status).toBe(200);
      return until(() => slack.callsTo('chat.postMessage')[0], 'the reply');
    };
    expect((await reply('before the reinstall')).token).toBe(before); // now cached (30 s)
    const { state, cookie } = await startInstall();
    const res = await get(`/slack/oauth_redirect?code=code-alpha-reinstall&state=${encodeURIComponent(state)}`, cookie);
    expect(res.status).toBe(200);
    const after = (await installations.fetchInstallation(teamQuery)).bot!;
    secretsSeen.add(after.token).add(after.refreshToken!);
    expect(after.token).not.toBe(before);
    const post = await reply('after the reinstall');
    expect(post.args.text).toBe('echo: after the reinstall');
    expect(post.token).toBe(after.token);
  });

  it('an org-wide (Enterprise Grid) install ends with a link to choose the workspaces, as Bolt links it', async () => {
    const org = `E0${randomUUID().slice(0, 8).toUpperCase()}`;
    const token = `xoxb-${org}-org-installed-token`;
    secretsSeen.add(token);
    slack.on('oauth.v2.access', (call) =>
      call.args.code === 'code-org'
        ? {
            body: {
              ok: true,
              access_token: token,
              token_type: 'bot',
              scope: 'chat:write',
              bot_user_id: 'UBOTORG',
              app_id: 'A0PARLEY',
              team: null,
              enterprise: { id: org, name: 'Grid & Co' },
              is_enterprise_install: true,
              authed_user: { id: 'U0ADMIN' },
            },
          }
        : undefined,
    );
    slack.on('auth.test', (call) => (call.token === token ? { body: { ok: true, url: 'https://grid-co.enterprise.slack.com/', bot_id: 'BORG', user_id: 'UBOTORG', enterprise_id: org, is_enterprise_install: true } } : undefined));
    const { state, cookie } = await startInstall();
    const res = await get(`/slack/oauth_redirect?code=code-org&state=${encodeURIComponent(state)}`, cookie);
    expect(res.status).toBe(200);
    expect(res.text).toContain('parley is installed in Grid &#38; Co.');
    const link = /<a href="([^"]+)">choose the organization's workspaces to add it to<\/a>/.exec(res.text)?.[1];
    expect(link).toBe('https://grid-co.enterprise.slack.com/manage/organization/apps/profile/A0PARLEY/workspaces/add');
    expect(res.text).not.toContain('app_redirect'); // no workspace to open it in yet
    const stored = await installations.fetchInstallation({ teamId: undefined, enterpriseId: org, isEnterpriseInstall: true });
    expect(stored).toMatchObject({ isEnterpriseInstall: true, enterpriseUrl: 'https://grid-co.enterprise.slack.com/', appId: 'A0PARLEY' });
  });

  it('after a key rotation (new key first, old second) a restarted bot reads the installation, answers, and re-encrypts it with the new key', async () => {
    await server.close();
    const newKey = randomBytes(32);
    server = await startSlackBot(slack, ai, env({ SLACK_INSTALLATION_KEY: `${newKey.toString('base64')},${KEY.toString('base64')}` }), undefined, { bot: { logger: logger() } });
    const redisKey = `${prefix}:parley:slack:installation:-:${TEAM}`;
    expect(JSON.parse((await redis.admin().get(redisKey))!).key).toBe(keyId(KEY));
    await postSlack(server.url, appMention({ team: TEAM, text: 'after the rotation' }));
    const [post] = await until(() => (slack.callsTo('chat.postMessage').length ? slack.callsTo('chat.postMessage') : undefined), 'the reply');
    expect(post!.args.text).toBe('echo: after the rotation');
    const raw = (await redis.admin().get(redisKey))!;
    expect(JSON.parse(raw).key).toBe(keyId(newKey));
    expect(raw).not.toMatch(/xox[a-z]-/);
    // The old key alone no longer opens it; the new one does.
    await expect(new ParleyInstallationStore({ store: server.bot.store, keys: [KEY] }).fetchInstallation({ teamId: TEAM, enterpriseId: undefined, isEnterpriseInstall: false })).rejects.toThrow(/no key/);
    expect((await new ParleyInstallationStore({ store: server.bot.store, keys: [newKey] }).fetchInstallation({ teamId: TEAM, enterpriseId: undefined, isEnterpriseInstall: false })).team?.id).toBe(TEAM);
  });

  it('no token, code, state or secret reaches a log line or the console', () => {
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('Slack app installed'))).toBe(true);
    expect(lines.some((l) => l.includes('Slack installation refused: invalid state'))).toBe(true);
    const output = [...lines, ...consoleOutput].join('\n');
    for (const secret of secretsSeen) expect(output).not.toContain(secret);
    expect(output).not.toMatch(/xox[bpe]-|xoxe\./);
    expect(output).not.toMatch(/code-(alpha|beta|lambda|forged)/);
  });
});

describe('Slack OAuth install with SLACK_DIRECT_INSTALL=on (a Marketplace direct install)', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  it('/slack/install redirects straight to Slack with the state, sets the same state cookie, and the install completes', async () => {
    const slack = await startFakeSlack({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, teamId: TEAM });
    const ai = await startFakeOpenAi();
    const env = { SLACK_BOT_TOKEN: '', SLACK_CLIENT_ID: CLIENT_ID, SLACK_CLIENT_SECRET: CLIENT_SECRET, SLACK_STATE_SECRET: STATE_SECRET, SLACK_INSTALLATION_KEY: KEY.toString('base64'), REDIS_URL, REDIS_PREFIX: prefix, SLACK_DIRECT_INSTALL: 'on' };
    const server = await startSlackBot(slack, ai, env);
    try {
      const res = await fetch(`${server.base}/slack/install`, { redirect: 'manual' });
      const answer = { status: res.status, headers: res.headers, text: await res.text() };
      expect(answer.status).toBe(302);
      expect(answer.text).toBe('');
      expect(answer.headers.get('cache-control')).toBe('no-store');
      const url = new URL(answer.headers.get('location')!);
      expect(`${url.origin}${url.pathname}`).toBe('https://slack.com/oauth/v2/authorize');
      const cookie = stateCookie(answer);
      expect(cookie.attributes).toBe('Path=/slack; HttpOnly; SameSite=Lax; Max-Age=600');
      expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: CLIENT_ID, scope: DEFAULT_SLACK_SCOPES, state: cookie.value });
      const back = await fetch(`${server.base}/slack/oauth_redirect?code=code-direct&state=${encodeURIComponent(cookie.value)}`, { headers: { cookie: `slack_oauth_state=${cookie.value}` } });
      expect(back.status).toBe(200);
      expect(await back.text()).toContain('parley is installed in');
      expect(slack.callsTo('oauth.v2.access').map((c) => c.args.code)).toEqual(['code-direct']);
    } finally {
      await server.close();
      await slack.close();
      await ai.close();
    }
  });
});

describe('Slack OAuth install with a configured redirect URI', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  const cases: [string, Record<string, string>, string][] = [
    ['PUBLIC_URL', { PUBLIC_URL: 'https://bot.example.com' }, 'https://bot.example.com/slack/oauth_redirect'],
    ['SLACK_REDIRECT_URI', { SLACK_REDIRECT_URI: 'https://auth.example.com/slack/oauth_redirect' }, 'https://auth.example.com/slack/oauth_redirect'],
  ];
  for (const [name, extra, redirectUri] of cases) {
    it(`with ${name}, the authorize URL and the code exchange carry the same redirect_uri, whatever address the page was opened at`, async () => {
      const slack = await startFakeSlack({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, teamId: TEAM });
      const ai = await startFakeOpenAi();
      const env = { SLACK_BOT_TOKEN: '', SLACK_CLIENT_ID: CLIENT_ID, SLACK_CLIENT_SECRET: CLIENT_SECRET, SLACK_STATE_SECRET: STATE_SECRET, SLACK_INSTALLATION_KEY: KEY.toString('base64'), REDIS_URL, REDIS_PREFIX: prefix, ...extra };
      const server = await startSlackBot(slack, ai, env);
      try {
        // Opened over plain http (as behind a TLS-terminating proxy without TRUST_PROXY).
        const page = await fetch(`${server.base}/slack/install`);
        const answer = { status: page.status, headers: page.headers, text: await page.text() };
        const url = authorizeUrl(answer);
        expect(url.searchParams.get('redirect_uri')).toBe(redirectUri);
        const cookie = stateCookie(answer).value;
        const back = await fetch(`${server.base}/slack/oauth_redirect?code=code-configured&state=${encodeURIComponent(url.searchParams.get('state')!)}`, { headers: { cookie: `slack_oauth_state=${cookie}` } });
        expect(back.status).toBe(200);
        expect(slack.callsTo('oauth.v2.access')[0]!.args.redirect_uri).toBe(redirectUri);
      } finally {
        await server.close();
        await slack.close();
        await ai.close();
      }
    });
  }
});
