/**
 * `tokens_revoked` naming the installing user while the installation's bot token is being refreshed
 * (token rotation): the refresh read the installation before the drop. What it stores keeps the
 * store's user part (the revoked token stays dropped) and its new bot token and refresh token (the old
 * refresh token is spent: losing the new one would break the bot at its next expiry). Through the real
 * bot server and the fake Slack Web API, and through WorkspaceTokens with a refresh the store could
 * not take yet (kept in the process and offered again).
 */
import { randomBytes } from 'node:crypto';
import type { App, AuthorizeSourceData } from '@slack/bolt';
import type { Installation } from '@slack/oauth';
import { WebClient } from '@slack/web-api';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { webClientOptions } from '../../adapters/slack/adapter.js';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { WorkspaceTokens } from '../../adapters/slack/workspace-tokens.js';
import { MemoryStore } from '../../src/store/index.js';
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

/** A workspace whose rotating bot token is due for a refresh (and the user's too, with `userDue`); the installing user's token is a rotating one. */
function withUserToken(team: string, { userDue = false, botExpiresAt = now() + 60 } = {}): Installation<'v2', false> {
  const base = installation(team, `xoxe.xoxb-1-${team}-bot`);
  return {
    ...base,
    bot: { ...base.bot!, refreshToken: `xoxe-1-${team}-bot-refresh`, expiresAt: botExpiresAt },
    user: { id: 'U0INSTALLER', token: `xoxe.xoxp-1-${team}-user`, refreshToken: `xoxe-1-${team}-user-refresh`, expiresAt: userDue ? now() + 60 : now() + 6 * 3600, scopes: ['search:read'] },
  };
}

/** Slack's tokens_revoked naming the installing user's token (not the bot's), a second after the installation. */
function userRevoked(team: string, installedAt: number) {
  const envelope = appMention({ team, text: 'x', eventTime: Math.floor(installedAt / 1000) + 1 });
  return { ...envelope, event: { type: 'tokens_revoked', tokens: { oauth: ['U0INSTALLER'], bot: [] }, event_ts: envelope.event.event_ts } };
}

/** A gate the fake's oauth.v2.access answers wait behind: the exchange is under way until it opens. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('tokens_revoked for the installing user during a bot token refresh', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  let installations: ParleyInstallationStore;
  const userTokens: (string | undefined)[] = [];
  const query = (team: string) => ({ teamId: team, enterpriseId: undefined, isEnterpriseInstall: false });

  beforeAll(async () => {
    slack = await startFakeSlack({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    ai = await startFakeOpenAi();
    const env = { SLACK_BOT_TOKEN: '', SLACK_CLIENT_ID: CLIENT_ID, SLACK_CLIENT_SECRET: CLIENT_SECRET, SLACK_STATE_SECRET: 'state-secret-for-tests-0123456789', SLACK_INSTALLATION_KEY: KEY.toString('base64') };
    const setup = (app: App) =>
      app.command('/whoami', async ({ ack, context }) => {
        userTokens.push(context.userToken);
        await ack();
      });
    server = await startSlackBot(slack, ai, env, setup, { bot: { logger: pino({ level: 'silent' }) } });
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

  for (const userDue of [false, true]) {
    it(`a drop landing during a slow oauth.v2.access stays: the user token is gone, the bot token is the refreshed one (${userDue ? 'the user token refreshed too' : 'only the bot token due'})`, async () => {
      const team = userDue ? 'T0RACEBOTH' : 'T0RACEBOT';
      await installations.storeInstallation(withUserToken(team, { userDue }));
      const { installedAt } = (await installations.fetchInstallation(query(team))) as { installedAt?: number };
      const exchange = gate();
      slack.on('oauth.v2.access', () => ({ after: exchange.opened }));
      const mention = postSlack(server.url, appMention({ team, channel: `C${team}`, text: 'hello' }));
      await until(() => slack.callsTo('oauth.v2.access').length === 1, 'the bot token refresh under way');
      expect((await postSlack(server.url, userRevoked(team, installedAt!))).status).toBe(200);
      expect((await installations.fetchInstallation(query(team))).user.token).toBeUndefined();
      exchange.open();
      expect((await mention).status).toBe(200);
      const post = await until(() => slack.callsTo('chat.postMessage').find((c) => c.args.channel === `C${team}`), 'the reply');

      const after = await installations.fetchInstallation(query(team));
      expect(after.user).toMatchObject({ id: 'U0INSTALLER', scopes: ['search:read'] });
      expect([after.user.token, after.user.refreshToken]).toEqual([undefined, undefined]);
      expect(after.bot!.token).toMatch(/^xoxe\.xoxb-1-fake-rotated-/);
      expect(after.bot!.refreshToken).toMatch(/^xoxe-1-fake-refresh-/);
      expect((after as { installedAt?: number }).installedAt).toBe(installedAt);
      expect(post.token).toBe(after.bot!.token);
      expect(slack.callsTo('oauth.v2.access').filter((c) => c.args.refresh_token === `xoxe-1-${team}-bot-refresh`)).toHaveLength(1);
      // This process's listeners get no user token either.
      expect((await postSlack(server.url, slashCommand({ command: '/whoami', text: '', team }))).status).toBe(200);
      expect(userTokens).toEqual([undefined]);
    });
  }

  it('a refresh the store could not take yet loses the user token too: not handed out, and not stored back once the store takes it', async () => {
    const team = 'T0RACEPENDING';
    const store = new MemoryStore();
    const real = new ParleyInstallationStore({ store, keys: [KEY] });
    await real.storeInstallation(withUserToken(team, { botExpiresAt: now() - 1 }));
    const { installedAt } = (await real.fetchInstallation(query(team))) as { installedAt?: number };
    const state = { down: true };
    // This process's writes of refreshes fail (a store blip); the drop's write goes through.
    const flaky = Object.assign(Object.create(real) as ParleyInstallationStore, {
      replaceInstallation: (...args: Parameters<ParleyInstallationStore['replaceInstallation']>) => (state.down ? Promise.reject(new Error('store blip')) : real.replaceInstallation(...args)),
    });
    const tokens = new WorkspaceTokens({ installations: flaky, client: new WebClient(undefined, webClientOptions(slack.url)), clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, store: () => store, logger: () => pino({ level: 'silent' }) });
    const source = { teamId: team, enterpriseId: undefined, isEnterpriseInstall: false } as AuthorizeSourceData<boolean>;

    const refreshed = await tokens.tokenFor({ team, channel: `C${team}`, user: 'U0ALICE' });
    expect(refreshed).toMatch(/^xoxe\.xoxb-1-fake-rotated-/);
    expect((await tokens.authorize(source)).userToken).toBe(`xoxe.xoxp-1-${team}-user`);
    expect(await tokens.admit(userRevoked(team, installedAt!))).toBe(true);
    expect(await tokens.authorize(source)).toMatchObject({ botToken: refreshed });
    expect((await tokens.authorize(source)).userToken).toBeUndefined();

    state.down = false;
    const after = await until(async () => {
      const stored = await real.fetchInstallation(query(team));
      return stored.bot!.token === refreshed ? stored : undefined;
    }, 'the refresh in the store');
    expect([after.user.token, after.user.refreshToken]).toEqual([undefined, undefined]);
    expect(after.bot!.refreshToken).toMatch(/^xoxe-1-fake-refresh-/);
    expect(await tokens.authorize(source)).toMatchObject({ botToken: refreshed });
    expect((await tokens.authorize(source)).userToken).toBeUndefined();
    await store.close();
  });
});
