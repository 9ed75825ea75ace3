/**
 * `parley simulate slack` against a server for many workspaces (OAuth: no one bot token to ask
 * auth.test with): the model reads the text as Slack's own app_mention reaches it, the bot's
 * mention stripped, not a placeholder mention the server cannot know as the bot's. Real Redis
 * (its own prefix), a fake Slack and a fake AI on free ports.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { simulateSlack } from '../../cli/simulate.js';
import { loadConfig } from '../../src/index.js';
import { lastUserText } from '../fakes/openai-server.js';
import { oauthBotOnRedis } from '../helpers/oauth-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { installation, oauthBotEnv } from '../helpers/slack-installations.js';
import { REDIS_URL } from '../integration/redis-helpers.js';
import { until } from '../helpers/until.js';

const KEY = randomBytes(32);

describe('parley simulate slack with OAuth', () => {
  // No answer cache: the same text is asked of the model twice.
  const world = oauthBotOnRedis({ key: KEY, env: { CACHE_TTL_SECONDS: '0' } });

  it('the model reads the same text as for a real mention of the installed bot', async () => {
    await world.installations.storeInstallation(installation('T0SIM'));
    // What Slack itself sends: its app_mention names the installation's bot user (U0BOT).
    await postSlack(`${world.base}/slack/events`, appMention({ team: 'T0SIM', channel: 'C0REAL', text: 'what can you do?', botUserId: 'U0BOT' }));
    await until(() => world.ai.calls.length === 1, 'the real mention answered');
    // The simulate command as a user runs it, with the server's settings (no SLACK_BOT_TOKEN).
    const config = loadConfig(oauthBotEnv({ slack: world.slack.url, ai: world.ai.url }, { url: REDIS_URL, prefix: world.prefix }, [KEY]));
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await simulateSlack(config, { text: 'what can you do?', url: `${world.base}/slack/events`, team: 'T0SIM', channel: 'C0SIM' })).toBe(0);
    } finally {
      log.mockRestore();
    }
    await until(() => world.ai.calls.length === 2, 'the simulated mention answered');
    expect(world.ai.calls.map(lastUserText)).toEqual(['what can you do?', 'what can you do?']);
  });
});
