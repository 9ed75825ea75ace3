/**
 * Slack's rate limits are per workspace: one workspace's 429 asking to wait a few seconds must not
 * hold a worker's slot from the others. With one slot, workspace R's reply meets a 429 (Retry-After
 * 6 s); workspace A's message, which comes after it, is answered first (R's waits in the queue, not
 * in the slot), and R's is posted once, when Slack allows, with the AI asked once. Real Redis, a fake
 * Slack and a fake AI.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { lastUserText } from '../fakes/openai-server.js';
import { oauthBotOnRedis } from '../helpers/oauth-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { installation } from '../helpers/slack-installations.js';
import { until } from '../helpers/until.js';

const KEY = randomBytes(32);

describe('a 429 in one Slack workspace, with one worker slot', () => {
  const world = oauthBotOnRedis({ key: KEY, env: { WORKER_CONCURRENCY: '1' } });

  beforeAll(async () => {
    for (const team of ['T0LIMITED', 'T0OTHER']) await world.installations.storeInstallation(installation(team));
  });

  it("answers the other workspace's later message first; the limited one once, when Slack allows", async () => {
    const limitedToken = 'xoxb-T0LIMITED-secret-token';
    const { slack, ai, base } = world;
    slack.on('chat.postMessage', (call, n) => (call.token === limitedToken && n === 0 ? { status: 429, headers: { 'retry-after': '6' } } : undefined));
    const mention = (team: string, text: string) => postSlack(`${base}/slack/events`, appMention({ team, channel: `C${team}`, user: `U${team}`, text, botUserId: 'U0BOT' }));
    expect((await mention('T0LIMITED', 'limited hello')).status).toBe(200);
    await until(() => slack.callsTo('chat.postMessage')[0], 'the 429');
    expect((await mention('T0OTHER', 'other hello')).status).toBe(200);

    const posted = () => slack.callsTo('chat.postMessage').slice(1); // after the 429
    await until(() => (posted().length === 2 ? true : undefined), 'both replies', 20_000);
    expect(posted().map((call) => call.args.text)).toEqual(['echo: other hello', 'echo: limited hello']);
    expect(ai.calls.filter((call) => lastUserText(call).includes('limited hello'))).toHaveLength(1);
  }, 30_000);
});
