/**
 * A rotating bot token that has expired, whose refresh token Slack refuses (invalid_refresh_token:
 * revoked or already spent). Nothing but a new installation brings the workspace back, so a reply
 * there is dead-lettered at once with its own reason, before the AI is asked, rather than retried
 * (each try spending another oauth.v2.access) and given up as attempts_exhausted. A refresh that
 * fails otherwise (Slack's 5xx) is still retried. Real Redis, a fake Slack and AI on free ports.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { oauthBotOnRedis } from '../helpers/oauth-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { installation } from '../helpers/slack-installations.js';
import { until } from '../helpers/until.js';

const KEY = randomBytes(32);

describe('an expired rotating token whose refresh fails', () => {
  const world = oauthBotOnRedis({ key: KEY });

  const deadLetters = async () => (await (await fetch(`${world.base}/metrics`)).text()).split('\n').filter((line) => line.startsWith('parley_dead_lettered_total{'));
  const installExpired = (team: string) => {
    const expired = installation(team);
    expired.bot!.expiresAt = Math.floor(Date.now() / 1000) - 60;
    return world.installations.storeInstallation(expired);
  };

  afterEach(() => world.slack.reset());

  it('invalid_refresh_token: dead-lettered at once (slack_refresh_token_refused), one refresh tried, no AI call, no post', async () => {
    await installExpired('T0SPENT');
    world.slack.on('oauth.v2.access', () => ({ body: { ok: false, error: 'invalid_refresh_token' } }));
    expect((await postSlack(`${world.base}/slack/events`, appMention({ team: 'T0SPENT', channel: 'C0SPENT', text: 'hello', botUserId: 'U0BOT' }))).status).toBe(200);
    const lines = await until(async () => ((await deadLetters()).length > 0 ? deadLetters() : undefined), 'the dead letter', 20_000);
    expect(lines).toEqual([expect.stringMatching(/reason="slack_refresh_token_refused"\} 1$/)]);
    expect(world.slack.callsTo('oauth.v2.access')).toHaveLength(1);
    expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
    expect(world.ai.calls).toHaveLength(0);
  });

  it('a 5xx from oauth.v2.access is retried, and the reply goes out once Slack refreshes the token', async () => {
    await installExpired('T0FLAKY');
    let refreshes = 0;
    world.slack.on('oauth.v2.access', (call) => (call.args.refresh_token === 'xoxe-1-T0FLAKY-refresh' && refreshes++ === 0 ? { status: 503, body: { ok: false, error: 'service_unavailable' } } : undefined));
    expect((await postSlack(`${world.base}/slack/events`, appMention({ team: 'T0FLAKY', channel: 'C0FLAKY', text: 'hello', botUserId: 'U0BOT' }))).status).toBe(200);
    const post = await until(() => world.slack.callsTo('chat.postMessage').find((call) => call.args.channel === 'C0FLAKY'), 'the reply', 20_000);
    expect(post!.token).toMatch(/^xoxe\.xoxb-1-fake-rotated-/);
    expect(refreshes).toBe(2);
  });
});
