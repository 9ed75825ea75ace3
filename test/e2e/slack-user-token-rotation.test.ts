/**
 * The installing user's token under Slack's token rotation, end to end: a real bot server, the fake
 * Slack Web API and the fake AI. parley's `authorize` hands the installation's user token to your own
 * Bolt listeners (context.userToken), as Bolt's InstallProvider does; with rotation on it expires
 * after 12 hours, so it is refreshed as the bot token is (oauth.v2.access, grant_type=refresh_token,
 * the user's refresh token) and stored back. The installations are put in the store directly, as a
 * store of your own that an install flow asking for user scopes filled would hold them.
 */
import { randomBytes } from 'node:crypto';
import type { App } from '@slack/bolt';
import type { Installation } from '@slack/oauth';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { installation } from '../helpers/slack-installations.js';
import { appMention, postSlack, slashCommand } from '../helpers/slack-events.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';

const CLIENT_ID = '1111.2222';
const CLIENT_SECRET = 'fake-client-secret-0123456789';
const KEY = randomBytes(32);
const now = () => Math.floor(Date.now() / 1000);

/** A workspace whose bot token is good for hours (or expired) and whose installing user's rotating token has expired. */
function withUserToken(team: string, options: { botExpired?: boolean } = {}): Installation<'v2', false> {
  const base = installation(team, `xoxe.xoxb-1-${team}-bot`);
  return {
    ...base,
    bot: { ...base.bot!, refreshToken: `xoxe-1-${team}-bot-refresh`, expiresAt: options.botExpired ? now() - 60 : now() + 6 * 3600 },
    user: { id: 'U0INSTALLER', token: `xoxe.xoxp-1-${team}-user-expired`, refreshToken: `xoxe-1-${team}-user-refresh`, expiresAt: now() - 60, scopes: ['search:read'] },
  };
}

/** Slack's answer to a user token's refresh: a user token (token_type user), a new refresh token. */
function userTokenAnswer(team: string) {
  return { body: { ok: true, token_type: 'user', access_token: `xoxe.xoxp-1-${team}-user-fresh`, refresh_token: `xoxe-1-${team}-user-refresh-2`, expires_in: 43_200, scope: 'search:read' } };
}

describe('Slack user tokens under token rotation (context.userToken of your own listeners)', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  let installations: ParleyInstallationStore;
  const userTokens: (string | undefined)[] = [];
  const raw: string[] = [];
  const stored = async (team: string) => installations.fetchInstallation({ teamId: team, enterpriseId: undefined, isEnterpriseInstall: false });
  const refreshesOf = (refreshToken: string) => slack.callsTo('oauth.v2.access').filter((c) => c.args.refresh_token === refreshToken);
  const whoami = (team: string) => postSlack(server.url, slashCommand({ command: '/whoami', text: '', team }));

  beforeAll(async () => {
    slack = await startFakeSlack({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    ai = await startFakeOpenAi();
    const logger = pino({ level: 'debug' }, { write: (line: string) => void raw.push(line) });
    const env = { SLACK_BOT_TOKEN: '', SLACK_CLIENT_ID: CLIENT_ID, SLACK_CLIENT_SECRET: CLIENT_SECRET, SLACK_STATE_SECRET: 'state-secret-for-tests-0123456789', SLACK_INSTALLATION_KEY: KEY.toString('base64') };
    // A listener of the developer's that acts as the installing user.
    const setup = (app: App) =>
      app.command('/whoami', async ({ ack, context }) => {
        userTokens.push(context.userToken);
        await ack();
      });
    server = await startSlackBot(slack, ai, env, setup, { bot: { logger } });
    installations = new ParleyInstallationStore({ store: server.bot.store, keys: [KEY] });
  });
  afterAll(async () => {
    await server?.close();
    await slack?.close();
    await ai?.close();
  });
  afterEach(() => {
    slack.reset();
    userTokens.length = 0;
  });

  it('an expired user token is refreshed before your listener gets it, and stored back; the bot token is left alone', async () => {
    await installations.storeInstallation(withUserToken('T0USER'));
    slack.on('oauth.v2.access', (call) => (call.args.refresh_token === 'xoxe-1-T0USER-user-refresh' ? userTokenAnswer('T0USER') : undefined));
    expect((await whoami('T0USER')).status).toBe(200);
    expect(userTokens).toEqual(['xoxe.xoxp-1-T0USER-user-fresh']);
    const refreshes = slack.callsTo('oauth.v2.access');
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]!.args).toMatchObject({ grant_type: 'refresh_token', refresh_token: 'xoxe-1-T0USER-user-refresh', client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    const after = await stored('T0USER');
    expect(after.user).toMatchObject({ id: 'U0INSTALLER', token: 'xoxe.xoxp-1-T0USER-user-fresh', refreshToken: 'xoxe-1-T0USER-user-refresh-2' });
    expect(after.user.expiresAt! - now()).toBeGreaterThan(43_000);
    expect(after.bot!.token).toBe('xoxe.xoxb-1-T0USER-bot');
    // The next request gets the new token without another refresh.
    expect((await whoami('T0USER')).status).toBe(200);
    expect(userTokens).toEqual(['xoxe.xoxp-1-T0USER-user-fresh', 'xoxe.xoxp-1-T0USER-user-fresh']);
    expect(slack.callsTo('oauth.v2.access')).toHaveLength(1);
  });

  it('a reply refreshes both tokens at once, each with its own refresh token, and posts with the new bot token', async () => {
    await installations.storeInstallation(withUserToken('T0BOTH', { botExpired: true }));
    slack.on('oauth.v2.access', (call) => (call.args.refresh_token === 'xoxe-1-T0BOTH-user-refresh' ? userTokenAnswer('T0BOTH') : undefined));
    expect((await postSlack(server.url, appMention({ team: 'T0BOTH', channel: 'C0BOTH', text: 'both' }))).status).toBe(200);
    const post = await until(() => slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'C0BOTH'), 'the reply');
    expect(refreshesOf('xoxe-1-T0BOTH-bot-refresh')).toHaveLength(1);
    expect(refreshesOf('xoxe-1-T0BOTH-user-refresh')).toHaveLength(1);
    const after = await stored('T0BOTH');
    expect(post.token).toBe(after.bot!.token);
    expect(after.bot!.token).toMatch(/^xoxe\.xoxb-1-fake-rotated-/);
    expect(after.user.token).toBe('xoxe.xoxp-1-T0BOTH-user-fresh');
  });

  it('a user refresh token Slack refuses: the user token is dropped (no context.userToken), the bot still answers, and it is not tried again', async () => {
    await installations.storeInstallation(withUserToken('T0REVOKED'));
    slack.on('oauth.v2.access', (call) => (call.args.refresh_token === 'xoxe-1-T0REVOKED-user-refresh' ? { body: { ok: false, error: 'invalid_refresh_token' } } : undefined));
    expect((await whoami('T0REVOKED')).status).toBe(200);
    expect((await whoami('T0REVOKED')).status).toBe(200);
    expect(userTokens).toEqual([undefined, undefined]);
    expect(slack.callsTo('oauth.v2.access')).toHaveLength(1);
    const after = await stored('T0REVOKED');
    expect(after.user.id).toBe('U0INSTALLER');
    expect([after.user.token, after.user.refreshToken]).toEqual([undefined, undefined]);
    expect(after.bot!.token).toBe('xoxe.xoxb-1-T0REVOKED-bot');
    expect((await postSlack(server.url, appMention({ team: 'T0REVOKED', channel: 'C0REVOKED', text: 'still answered' }))).status).toBe(200);
    const post = await until(() => slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'C0REVOKED'), 'the reply');
    expect(post.token).toBe('xoxe.xoxb-1-T0REVOKED-bot');
    expect(raw.some((line) => /refused the refresh token of the installing user/.test(line))).toBe(true);
  });

  it('tokens_revoked naming the installing user drops its user token (no context.userToken from the next request), keeps the bot token; an older one or another user is ignored', async () => {
    const team = 'T0USERREVOKED';
    const fresh = withUserToken(team);
    await installations.storeInstallation({ ...fresh, user: { ...fresh.user, expiresAt: now() + 6 * 3600 } });
    const { installedAt } = (await stored(team)) as { installedAt?: number };
    const second = Math.floor(installedAt! / 1000);
    const revoked = (users: string[], eventTime: number) => {
      const envelope = appMention({ team, text: 'x', eventTime });
      return { ...envelope, event: { type: 'tokens_revoked', tokens: { oauth: users, bot: [] }, event_ts: envelope.event.event_ts } };
    };
    expect((await whoami(team)).status).toBe(200); // cached by this process with the user token
    // Another user's token, and one revoked before this installation (a late redelivery): nothing dropped.
    expect((await postSlack(server.url, revoked(['U0SOMEONE'], second + 1))).status).toBe(200);
    expect((await postSlack(server.url, revoked(['U0INSTALLER'], second - 20))).status).toBe(200);
    expect((await stored(team)).user.token).toBe(`xoxe.xoxp-1-${team}-user-expired`);

    expect((await postSlack(server.url, revoked(['U0INSTALLER'], second + 1))).status).toBe(200);
    expect((await whoami(team)).status).toBe(200);
    expect(userTokens).toEqual([`xoxe.xoxp-1-${team}-user-expired`, undefined]);
    const after = (await stored(team)) as Installation & { installedAt?: number };
    expect(after.user).toMatchObject({ id: 'U0INSTALLER', scopes: ['search:read'] });
    expect([after.user.token, after.user.refreshToken, after.user.expiresAt]).toEqual([undefined, undefined, undefined]);
    expect([after.bot!.token, after.bot!.refreshToken, after.installedAt]).toEqual([`xoxe.xoxb-1-${team}-bot`, `xoxe-1-${team}-bot-refresh`, installedAt]);
    expect(raw.some((line) => line.includes(team) && /revoked the installing user's token/.test(line))).toBe(true);
    expect(slack.callsTo('oauth.v2.access')).toHaveLength(0);
    expect((await postSlack(server.url, appMention({ team, channel: 'C0USERREVOKED', text: 'still answered' }))).status).toBe(200);
    const post = await until(() => slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'C0USERREVOKED'), 'the reply');
    expect(post.token).toBe(`xoxe.xoxb-1-${team}-bot`);
    expect(raw.some((line) => line.includes(team) && /older than the installation/.test(line))).toBe(true);
  });

  it('never puts a user token or refresh token in a log line', () => {
    expect(raw.some((line) => /Slack user token refreshed/.test(line))).toBe(true);
    expect(raw.filter((line) => /xox[bpe][.-]/.test(line))).toEqual([]);
  });
});
