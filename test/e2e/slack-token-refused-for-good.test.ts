/**
 * A workspace whose bot token Slack refuses for good (`token_revoked`, `account_inactive`,
 * `invalid_auth` with nothing to renew it from) while its installation stays in the store (no
 * uninstall event came): the first message is dead-lettered as before; the workspace's later
 * messages are dead-lettered with the same reason before the AI is asked, so they cost no AI call
 * and no post. A reinstall (a new token) is answered at once. Real Redis, a fake Slack and a fake AI.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { lastUserText } from '../fakes/openai-server.js';
import { deadLettered, oauthBotOnRedis } from '../helpers/oauth-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { installation } from '../helpers/slack-installations.js';
import { until } from '../helpers/until.js';

const KEY = randomBytes(32);

describe('a bot token Slack refuses for good, the installation still stored', () => {
  const world = oauthBotOnRedis({ key: KEY });

  const postsIn = (channel: string) => world.slack.callsTo('chat.postMessage').filter((call) => call.args.channel === channel);
  const asked = (text: string) => world.ai.calls.filter((call) => lastUserText(call).includes(text)).length;
  /** Not a rotating token: only a reinstall can replace it. */
  const install = (team: string, token: string) => {
    const plain = installation(team, token);
    const { refreshToken: _r, expiresAt: _e, ...botPart } = plain.bot!;
    return world.installations.storeInstallation({ ...plain, bot: botPart });
  };
  const mention = (team: string, channel: string, text: string) => postSlack(`${world.base}/slack/events`, appMention({ team, channel, text, user: `U${channel}`, botUserId: 'U0BOT' }));

  afterEach(() => world.slack.reset());

  for (const refusal of ['token_revoked', 'account_inactive', 'invalid_auth']) {
    it(`${refusal}: later messages are dead-lettered before the AI is asked; a reinstall is answered`, async () => {
      const team = `T0GONE${refusal.length}`;
      const [old, fresh] = [`xoxb-${team}-revoked`, `xoxb-${team}-reinstalled`];
      await install(team, old);
      for (const method of ['chat.postMessage', 'assistant.threads.setStatus']) world.slack.on(method, (call) => (call.token === old ? { body: { ok: false, error: refusal } } : undefined));
      const reason = `slack_${refusal}`;

      expect((await mention(team, `C1${team}`, `first ${refusal}`)).status).toBe(200);
      await until(async () => (await deadLettered(world.base, reason)) === 1 || undefined, 'the first dead letter');
      expect(asked(`first ${refusal}`)).toBe(1); // Slack had not refused it yet

      for (const n of [2, 3]) expect((await mention(team, `C${n}${team}`, `later ${n} ${refusal}`)).status).toBe(200);
      await until(async () => (await deadLettered(world.base, reason)) === 3 || undefined, 'the later dead letters');
      expect(asked(`later 2 ${refusal}`) + asked(`later 3 ${refusal}`)).toBe(0);
      expect(postsIn(`C2${team}`).length + postsIn(`C3${team}`).length).toBe(0);

      await install(team, fresh);
      expect((await mention(team, `C4${team}`, `again ${refusal}`)).status).toBe(200);
      const [reply] = await until(() => (postsIn(`C4${team}`).length ? postsIn(`C4${team}`) : undefined), 'the reply after the reinstall');
      expect(reply!.token).toBe(fresh);
      expect(reply!.args.text).toBe(`echo: again ${refusal}`);
      expect(await deadLettered(world.base, reason)).toBe(3);
    });
  }
});
