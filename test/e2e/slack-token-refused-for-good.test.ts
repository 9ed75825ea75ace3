/**
 * A workspace whose bot token Slack refuses for good (`token_revoked`, `account_inactive`,
 * `invalid_auth` with nothing to renew it from) while its installation stays in the store (no
 * uninstall event came): the first message is dead-lettered as before; the workspace's later
 * messages are dead-lettered with the same reason before the AI is asked, so they cost no AI call
 * and no post. A reinstall (a new token) is answered at once. Real Redis, a fake Slack and a fake AI.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { installation, oauthBotEnv } from '../helpers/slack-installations.js';
import { until } from '../helpers/until.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const KEY = randomBytes(32);

describe('a bot token Slack refuses for good, the installation still stored', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let bot: Bot;
  let base: string;

  const postsIn = (channel: string) => slack.callsTo('chat.postMessage').filter((call) => call.args.channel === channel);
  const asked = (text: string) => ai.calls.filter((call) => lastUserText(call).includes(text)).length;
  const deadLettered = async (reason: string) => {
    const line = (await (await fetch(`${base}/metrics`)).text()).split('\n').find((l) => l.startsWith(`parley_dead_lettered_total{platform="slack",reason="${reason}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  /** Not a rotating token: only a reinstall can replace it. */
  const install = (team: string, token: string) => {
    const plain = installation(team, token);
    const { refreshToken: _r, expiresAt: _e, ...botPart } = plain.bot!;
    return new ParleyInstallationStore({ store: bot.store, keys: [KEY] }).storeInstallation({ ...plain, bot: botPart });
  };
  const mention = (team: string, channel: string, text: string) => postSlack(`${base}/slack/events`, appMention({ team, channel, text, user: `U${channel}`, botUserId: 'U0BOT' }));

  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    const env = oauthBotEnv({ slack: slack.url, ai: ai.url }, { url: REDIS_URL, prefix }, [KEY]);
    bot = createBot({ config: loadConfig(env), adapters: [slackAdapter(slackConfigFromEnv(env)!)] });
    const server = await bot.listen(0, '127.0.0.1');
    await bot.ready;
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await bot?.close();
    await slack?.close();
    await ai?.close();
  });
  afterEach(() => slack.reset());

  for (const refusal of ['token_revoked', 'account_inactive', 'invalid_auth']) {
    it(`${refusal}: later messages are dead-lettered before the AI is asked; a reinstall is answered`, async () => {
      const team = `T0GONE${refusal.length}`;
      const [old, fresh] = [`xoxb-${team}-revoked`, `xoxb-${team}-reinstalled`];
      await install(team, old);
      for (const method of ['chat.postMessage', 'assistant.threads.setStatus']) slack.on(method, (call) => (call.token === old ? { body: { ok: false, error: refusal } } : undefined));
      const reason = `slack_${refusal}`;

      expect((await mention(team, `C1${team}`, `first ${refusal}`)).status).toBe(200);
      await until(async () => (await deadLettered(reason)) === 1 || undefined, 'the first dead letter');
      expect(asked(`first ${refusal}`)).toBe(1); // Slack had not refused it yet

      for (const n of [2, 3]) expect((await mention(team, `C${n}${team}`, `later ${n} ${refusal}`)).status).toBe(200);
      await until(async () => (await deadLettered(reason)) === 3 || undefined, 'the later dead letters');
      expect(asked(`later 2 ${refusal}`) + asked(`later 3 ${refusal}`)).toBe(0);
      expect(postsIn(`C2${team}`).length + postsIn(`C3${team}`).length).toBe(0);

      await install(team, fresh);
      expect((await mention(team, `C4${team}`, `again ${refusal}`)).status).toBe(200);
      const [reply] = await until(() => (postsIn(`C4${team}`).length ? postsIn(`C4${team}`) : undefined), 'the reply after the reinstall');
      expect(reply!.token).toBe(fresh);
      expect(reply!.args.text).toBe(`echo: again ${refusal}`);
      expect(await deadLettered(reason)).toBe(3);
    });
  }
});
