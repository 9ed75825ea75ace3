/**
 * Slack's rate limits are per workspace: one workspace's 429 asking to wait a few seconds must not
 * hold a worker's slot from the others. With one slot, workspace R's reply meets a 429 (Retry-After
 * 6 s); workspace A's message, which comes after it, is answered first (R's waits in the queue, not
 * in the slot), and R's is posted once, when Slack allows, with the AI asked once. Real Redis, a fake
 * Slack and a fake AI.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('a 429 in one Slack workspace, with one worker slot', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let bot: Bot;
  let base: string;

  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    const env = { ...oauthBotEnv({ slack: slack.url, ai: ai.url }, { url: REDIS_URL, prefix }, [KEY]), WORKER_CONCURRENCY: '1' };
    bot = createBot({ config: loadConfig(env), adapters: [slackAdapter(slackConfigFromEnv(env)!)] });
    const server = await bot.listen(0, '127.0.0.1');
    await bot.ready;
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const installations = new ParleyInstallationStore({ store: bot.store, keys: [KEY] });
    for (const team of ['T0LIMITED', 'T0OTHER']) await installations.storeInstallation(installation(team));
  });
  afterAll(async () => {
    await bot?.close();
    await slack?.close();
    await ai?.close();
  });

  it("answers the other workspace's later message first; the limited one once, when Slack allows", async () => {
    const limitedToken = 'xoxb-T0LIMITED-secret-token';
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
