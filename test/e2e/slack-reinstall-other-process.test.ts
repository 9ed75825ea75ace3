/**
 * Uninstalled, then installed again, while a worker in another process still holds the old
 * installation in its 30-second cache: the worker's next reply goes with the new token (as Bolt's
 * authorize, which reads the store each time, would), not the revoked one and a dead letter. Two
 * bots on a real Redis (one takes webhooks, the other works the queue), a fake Slack that refuses
 * the revoked token as Slack does, and a fake AI on free ports.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebClient } from '@slack/web-api';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webClientOptions } from '../../adapters/slack/adapter.js';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { WorkspaceTokens } from '../../adapters/slack/workspace-tokens.js';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { installation, oauthBotEnv } from '../helpers/slack-installations.js';
import { until } from '../helpers/until.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const KEY = randomBytes(32);

describe('a reinstall another process has not seen yet', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  const bots: Bot[] = [];
  let serve: string;
  let worker: string;

  async function start(runsWorker: boolean): Promise<string> {
    const env = oauthBotEnv({ slack: slack.url, ai: ai.url }, { url: REDIS_URL, prefix }, [KEY]);
    const bot = createBot({ config: loadConfig(env), adapters: [slackAdapter(slackConfigFromEnv(env)!)], worker: runsWorker });
    bots.push(bot);
    const server = await bot.listen(0, '127.0.0.1');
    await bot.ready;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const postsIn = (channel: string) => slack.callsTo('chat.postMessage').filter((call) => call.args.channel === channel);
  const deadLetters = async () => (await (await fetch(`${worker}/metrics`)).text()).split('\n').filter((line) => line.startsWith('parley_dead_lettered_total{'));
  /** Not a rotating token (no refresh token): the common case, where only the store can tell of a new one. */
  const install = (team: string, token: string) => {
    const plain = installation(team, token);
    const { refreshToken: _r, expiresAt: _e, ...bot } = plain.bot!;
    return new ParleyInstallationStore({ store: bots[0]!.store, keys: [KEY] }).storeInstallation({ ...plain, bot });
  };

  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    serve = await start(false);
    worker = await start(true);
  });
  afterAll(async () => {
    for (const bot of bots) await bot.close();
    await slack?.close();
    await ai?.close();
  });

  for (const refusal of ['token_revoked', 'invalid_auth']) {
    it(`answers with the new installation's token (the old one refused with ${refusal}), no dead letter`, async () => {
      const TEAM = `T0AGAIN${refusal.length}`;
      const [OLD, NEW] = [`xoxb-${TEAM}-first-install`, `xoxb-${TEAM}-second-install`];
      const [before, after] = [`C0BEFORE${TEAM}`, `C0AFTER${TEAM}`];
      await install(TEAM, OLD);
      // The worker answers once with the first installation, and keeps it in its cache.
      expect((await postSlack(`${serve}/slack/events`, appMention({ team: TEAM, channel: before, text: 'hello', botUserId: 'U0BOT' }))).status).toBe(200);
      await until(() => postsIn(before)[0], 'the first reply');
      expect(postsIn(before)[0]!.token).toBe(OLD);

      // Uninstalled (through the webhook process), and installed again at once.
      const uninstalled = appMention({ team: TEAM, text: 'x', botUserId: 'U0BOT' });
      uninstalled.event = { type: 'app_uninstalled', event_ts: uninstalled.event.event_ts } as unknown as typeof uninstalled.event;
      expect((await postSlack(`${serve}/slack/events`, uninstalled)).status).toBe(200);
      await install(TEAM, NEW);
      // Slack revoked the first installation's token with the uninstall.
      slack.on('chat.postMessage', (call) => (call.token === OLD ? { body: { ok: false, error: refusal } } : undefined));

      expect((await postSlack(`${serve}/slack/events`, appMention({ team: TEAM, channel: after, text: 'hello again', botUserId: 'U0BOT' }))).status).toBe(200);
      const answered = await until(async () => postsIn(after).find((call) => call.token === NEW) ?? ((await deadLetters()).length > 0 ? 'dead-lettered' : undefined), 'the reply or a dead letter');
      expect(answered).not.toBe('dead-lettered');
      expect(await deadLetters()).toEqual([]);
      slack.reset();
    });
  }

  it('a token refused after the job checked the installation: the token of the reinstall from the store, no refresh asked for', async () => {
    const TEAM = 'T0MIDWAY';
    await install(TEAM, `xoxb-${TEAM}-first-install`);
    const tokens = new WorkspaceTokens({
      installations: new ParleyInstallationStore({ store: bots[0]!.store, keys: [KEY] }),
      client: new WebClient(undefined, webClientOptions(slack.url)),
      clientId: '1111.2222',
      clientSecret: 'fake-client-secret-0123456789',
      store: () => bots[0]!.store,
      logger: () => pino({ level: 'silent' }),
    });
    const details = { team: TEAM, channel: 'C0MIDWAY', user: 'U0ALICE' };
    await tokens.stillInstalled(details);
    expect(await tokens.tokenFor(details)).toBe(`xoxb-${TEAM}-first-install`); // cached now
    await install(TEAM, `xoxb-${TEAM}-second-install`); // by another process, while the AI answered
    expect(await tokens.renew(details, `xoxb-${TEAM}-first-install`)).toBe(`xoxb-${TEAM}-second-install`);
    expect(await tokens.tokenFor(details)).toBe(`xoxb-${TEAM}-second-install`);
    expect(slack.callsTo('oauth.v2.access')).toEqual([]);
  });
});
