/**
 * A rotating bot token Slack refuses (invalid_auth) while its refresh fails for now (oauth.v2.access
 * answers 503): that message is dead-lettered, and the refused token is remembered. The refusal is
 * not for good, though: the token can still be renewed, so the workspace's next message refreshes
 * it and is answered, rather than dead-lettered for the 10 minutes the refusal is remembered.
 * Real Redis, a fake Slack and a fake AI.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deadLettered, oauthBotOnRedis } from '../helpers/oauth-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { installation } from '../helpers/slack-installations.js';
import { until } from '../helpers/until.js';

const KEY = randomBytes(32);

describe('a rotating token refused while its refresh fails for now', () => {
  const world = oauthBotOnRedis({ key: KEY });

  const mention = (channel: string, text: string) => postSlack(`${world.base}/slack/events`, appMention({ team: 'T0FLAKYREFRESH', channel, text, user: 'U0USER', botUserId: 'U0BOT' }));

  it('the next message renews the token and is answered', async () => {
    const old = 'xoxb-T0FLAKYREFRESH-old';
    const { slack, base } = world;
    await world.installations.storeInstallation(installation('T0FLAKYREFRESH', old));
    for (const method of ['chat.postMessage', 'assistant.threads.setStatus']) slack.on(method, (call) => (call.token === old ? { body: { ok: false, error: 'invalid_auth' } } : undefined));
    let flaky = true;
    slack.on('oauth.v2.access', () => (flaky ? { status: 503, body: { ok: false, error: 'service_unavailable' } } : undefined));

    expect((await mention('C1', 'first')).status).toBe(200);
    await until(async () => (await deadLettered(base, 'slack_invalid_auth')) === 1 || undefined, 'the first dead letter');
    flaky = false; // Slack's OAuth answers again

    expect((await mention('C2', 'second')).status).toBe(200);
    const reply = await until(() => slack.callsTo('chat.postMessage').find((call) => call.args.channel === 'C2' && call.token !== old), 'the reply after the refresh', 20_000);
    expect(reply!.token).toMatch(/^xoxe\.xoxb-1-fake-rotated-/);
    expect(reply!.args.text).toBe('echo: second');
    expect(await deadLettered(base, 'slack_invalid_auth')).toBe(1);
  }, 30_000);
});
