/**
 * A rotating bot token Slack refuses (invalid_auth) while its refresh fails for now (oauth.v2.access
 * answers 503): that message is dead-lettered, and the refused token is remembered. The refusal is
 * not for good, though: the token can still be renewed, so the workspace's next message refreshes
 * it and is answered, rather than dead-lettered for the 10 minutes the refusal is remembered.
 * Real Redis, a fake Slack and a fake AI.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { installation, oauthBotEnv } from '../helpers/slack-installations.js';
import { until } from '../helpers/until.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const KEY = randomBytes(32);

describe('a rotating token refused while its refresh fails for now', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let bot: Bot;
  let base: string;

  const deadLettered = async (reason: string) => {
    const line = (await (await fetch(`${base}/metrics`)).text()).split('\n').find((l) => l.startsWith(`parley_dead_lettered_total{platform="slack",reason="${reason}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  const mention = (channel: string, text: string) => postSlack(`${base}/slack/events`, appMention({ team: 'T0FLAKYREFRESH', channel, text, user: 'U0USER', botUserId: 'U0BOT' }));

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

  it('the next message renews the token and is answered', async () => {
    const old = 'xoxb-T0FLAKYREFRESH-old';
    await new ParleyInstallationStore({ store: bot.store, keys: [KEY] }).storeInstallation(installation('T0FLAKYREFRESH', old));
    for (const method of ['chat.postMessage', 'assistant.threads.setStatus']) slack.on(method, (call) => (call.token === old ? { body: { ok: false, error: 'invalid_auth' } } : undefined));
    let flaky = true;
    slack.on('oauth.v2.access', () => (flaky ? { status: 503, body: { ok: false, error: 'service_unavailable' } } : undefined));

    expect((await mention('C1', 'first')).status).toBe(200);
    await until(async () => (await deadLettered('slack_invalid_auth')) === 1 || undefined, 'the first dead letter');
    flaky = false; // Slack's OAuth answers again

    expect((await mention('C2', 'second')).status).toBe(200);
    const reply = await until(() => slack.callsTo('chat.postMessage').find((call) => call.args.channel === 'C2' && call.token !== old), 'the reply after the refresh', 20_000);
    expect(reply!.token).toMatch(/^xoxe\.xoxb-1-fake-rotated-/);
    expect(reply!.args.text).toBe('echo: second');
    expect(await deadLettered('slack_invalid_auth')).toBe(1);
  }, 30_000);
});
