/**
 * A late uninstall after a quick reinstall, end to end: a real bot server on a real Redis, the
 * fake Slack Web API and the fake AI. Slack sends `app_uninstalled` / `tokens_revoked` again when
 * it got no answer in time, and out of order; an admin can uninstall and install again within
 * seconds. An uninstall event whose event_time is older than the installation (installed through
 * the real OAuth flow) must not delete it; a newer one deletes it, as before.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Installation, InstallationQuery } from '@slack/oauth';
import { WebClient } from '@slack/web-api';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seal } from '../../adapters/slack/installation-crypto.js';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { WorkspaceTokens } from '../../adapters/slack/workspace-tokens.js';
import { MemoryStore } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { installation as testInstallation } from '../helpers/slack-installations.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const CLIENT_ID = '1111.2222';
const CLIENT_SECRET = 'fake-client-secret-0123456789';
const STATE_SECRET = 'state-secret-for-tests-0123456789abcdef';
const KEY = randomBytes(32);
const TEAM = `T0${randomUUID().slice(0, 8).toUpperCase()}`;
const ORG = `E0${randomUUID().slice(0, 8).toUpperCase()}`;
const quiet = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

/** An uninstall event as Slack sends it: `app_uninstalled` without authorizations; `tokens_revoked` with them. */
function uninstallEvent(team: string, eventTime: number, event: Record<string, unknown> = { type: 'app_uninstalled' }): Record<string, unknown> {
  const envelope = appMention({ team, text: 'x', eventTime });
  const body: Record<string, unknown> = { ...envelope, event: { ...event, event_ts: envelope.event.event_ts } };
  if (event.type === 'app_uninstalled') delete body.authorizations;
  return body;
}

describe('a late uninstall after a quick reinstall (Redis, fake Slack, the real OAuth flow)', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  let installations: ParleyInstallationStore;
  const lines: Record<string, unknown>[] = [];
  const teamQuery = { teamId: TEAM, enterpriseId: undefined, isEnterpriseInstall: false } as const;
  const orgQuery = { teamId: undefined, enterpriseId: ORG, isEnterpriseInstall: true } as const;

  /** Install through /slack/install and /slack/oauth_redirect, as a browser would. */
  async function install(code: string): Promise<void> {
    const page = await fetch(`${server.base}/slack/install`);
    const header = page.headers.getSetCookie().find((c) => c.startsWith('slack_oauth_state='))!;
    const cookie = header.split(';')[0]!;
    const href = /<a href="([^"]+)"><img alt="Add to Slack"/.exec(await page.text())![1]!;
    const state = new URL(href.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))).searchParams.get('state')!;
    const back = await fetch(`${server.base}/slack/oauth_redirect?code=${code}&state=${encodeURIComponent(state)}`, { headers: { cookie } });
    expect(back.status, await back.text()).toBe(200);
  }

  /** The second (as event_time counts) the stored installation was installed in: its installedAt, else (a record without one) now. */
  async function installedSecond(query: typeof teamQuery | typeof orgQuery): Promise<number> {
    const stored = (await installations.fetchInstallation(query)) as { installedAt?: unknown };
    return Math.floor((typeof stored.installedAt === 'number' ? stored.installedAt : Date.now()) / 1000);
  }

  const ignoredLines = (where: Record<string, unknown>) =>
    lines.filter((l) => /older than the installation/.test(String(l.msg)) && Object.entries(where).every(([k, v]) => l[k] === v));

  beforeAll(async () => {
    slack = await startFakeSlack({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, teamId: TEAM });
    ai = await startFakeOpenAi();
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const env = { SLACK_BOT_TOKEN: '', SLACK_CLIENT_ID: CLIENT_ID, SLACK_CLIENT_SECRET: CLIENT_SECRET, SLACK_STATE_SECRET: STATE_SECRET, SLACK_INSTALLATION_KEY: KEY.toString('base64'), REDIS_URL, REDIS_PREFIX: prefix };
    server = await startSlackBot(slack, ai, env, undefined, { bot: { logger } });
    installations = new ParleyInstallationStore({ store: server.bot.store, keys: [KEY] });
  });
  afterAll(async () => {
    await server?.close();
    await slack?.close();
    await ai?.close();
  });
  afterEach(() => slack.reset());

  it('an uninstall older than the installation (redelivered, or in the same second) is ignored: the installation is kept and the bot still answers', async () => {
    await install('code-first');
    const installed = await installedSecond(teamQuery);
    const token = (await installations.fetchInstallation(teamQuery)).bot!.token;
    // The uninstall that came before the reinstall, redelivered late by Slack; a bot-token revocation in the install's own second.
    const late = await postSlack(server.url, uninstallEvent(TEAM, installed - 20), { retryNum: 2, retryReason: 'http_timeout' });
    const sameSecond = await postSlack(server.url, uninstallEvent(TEAM, installed, { type: 'tokens_revoked', tokens: { oauth: [], bot: ['UBOT'] } }));
    expect([late.status, sameSecond.status]).toEqual([200, 200]);
    expect((await installations.fetchInstallation(teamQuery)).bot!.token).toBe(token);

    const [line] = ignoredLines({ teamId: TEAM, event: 'app_uninstalled' });
    expect(line, 'an info line naming the workspace and both times').toMatchObject({ level: 30, teamId: TEAM, isEnterpriseInstall: false, eventTime: new Date((installed - 20) * 1000).toISOString() });
    expect(Math.floor(Date.parse(String(line!.installedAt)) / 1000)).toBe(installed);
    expect(ignoredLines({ teamId: TEAM, event: 'tokens_revoked' })).toHaveLength(1);

    expect((await postSlack(server.url, appMention({ team: TEAM, channel: 'C0AFTER', text: 'still installed?' }))).status).toBe(200);
    const post = await until(() => slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'C0AFTER'), 'the reply after the late uninstall');
    expect(post.args.text).toBe('echo: still installed?');
    expect(post.token).toBe(token);
  });

  it('an uninstall after the installation deletes it, as before: the workspace is no longer answered', async () => {
    const installed = await installedSecond(teamQuery);
    expect((await postSlack(server.url, uninstallEvent(TEAM, installed + 1))).status).toBe(200);
    expect(await installations.findInstallation(teamQuery)).toBeUndefined();
    expect((await postSlack(server.url, appMention({ team: TEAM, channel: 'C0GONE', text: 'after the uninstall' }))).status).toBe(200);
    await quiet();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(ai.calls.filter((c) => JSON.stringify(c).includes('after the uninstall'))).toHaveLength(0);
  });

  it('an org-wide (Enterprise Grid) installation: an older app_uninstalled is ignored, a newer one deletes it', async () => {
    const token = `xoxb-${ORG}-org-token`;
    slack.on('oauth.v2.access', () => ({
      body: { ok: true, access_token: token, token_type: 'bot', scope: 'chat:write', bot_user_id: 'UBOT', app_id: 'A0PARLEY', team: null, enterprise: { id: ORG, name: 'Grid' }, is_enterprise_install: true, authed_user: { id: 'U0ADMIN' } },
    }));
    await install('code-org');
    const installed = await installedSecond(orgQuery);
    const orgEvent = (eventTime: number) => ({ ...uninstallEvent('T0ORGTEAM', eventTime), enterprise_id: ORG, is_enterprise_install: true });
    expect((await postSlack(server.url, orgEvent(installed - 5))).status).toBe(200);
    expect((await installations.fetchInstallation(orgQuery)).bot!.token).toBe(token);
    expect(ignoredLines({ enterpriseId: ORG, isEnterpriseInstall: true })).toHaveLength(1);
    expect((await postSlack(server.url, orgEvent(installed + 2))).status).toBe(200);
    expect(await installations.findInstallation(orgQuery)).toBeUndefined();
  });

  it('a record stored before the install time was recorded is read as before, and deleted by any uninstall', async () => {
    const team = `T9${randomUUID().slice(0, 8).toUpperCase()}`;
    const query = { teamId: team, enterpriseId: undefined, isEnterpriseInstall: false } as const;
    const key = ParleyInstallationStore.keyFor(query);
    await server.bot.store.set(key, seal(JSON.stringify(testInstallation(team)), [KEY], key));
    expect((await installations.fetchInstallation(query)).bot!.token).toBe(`xoxb-${team}-secret-token`);
    expect((await postSlack(server.url, uninstallEvent(team, Math.floor(Date.now() / 1000) - 3600))).status).toBe(200);
    expect(await installations.findInstallation(query)).toBeUndefined();
  });
});

describe('a late uninstall with an installation store of your own (no conditional delete)', () => {
  it('reads the installation, keeps it when the event is older, deletes it when newer', async () => {
    const records = new Map<string, Installation>();
    const keyOf = (query: InstallationQuery<boolean>) => `${query.enterpriseId ?? '-'}:${query.teamId ?? '-'}`;
    const own = {
      storeInstallation: async (installation: Installation) => void records.set(`-:${installation.team!.id}`, installation),
      fetchInstallation: async (query: InstallationQuery<boolean>) => records.get(keyOf(query)) ?? Promise.reject(new Error('not found')),
      deleteInstallation: async (query: InstallationQuery<boolean>) => void records.delete(keyOf(query)),
    };
    const store = new MemoryStore();
    const lines: Record<string, unknown>[] = [];
    const tokens = new WorkspaceTokens({ installations: own, client: new WebClient(), store: () => store, logger: () => pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) });
    const installedAt = Date.now();
    // As /slack/install hands it to your store: with the time it was installed.
    await own.storeInstallation({ ...testInstallation('T0OWN'), installedAt } as Installation);
    const second = Math.floor(installedAt / 1000);
    expect(await tokens.admit(uninstallEvent('T0OWN', second - 3)), 'an ignored uninstall is not handed to your listeners').toBe(false);
    expect(records.has('-:T0OWN')).toBe(true);
    expect(lines.find((l) => /older than the installation/.test(String(l.msg)))).toMatchObject({ teamId: 'T0OWN', eventTime: new Date((second - 3) * 1000).toISOString(), installedAt: new Date(installedAt).toISOString() });
    expect(await tokens.admit(uninstallEvent('T0OWN', second + 1))).toBe(true);
    expect(records.has('-:T0OWN')).toBe(false);
    await store.close();
  });
});
