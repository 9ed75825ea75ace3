/**
 * What Slack gets for a request that goes through Bolt (adapters/slack/dispatch.ts): an Events API
 * request is answered as soon as Bolt acknowledges it, before any middleware, as Bolt's own
 * receivers do, so a developer's slow middleware never makes Slack retry.
 */
import { App } from '@slack/bolt';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyReceiver, slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { CHANNEL_ID, nextSlackTs, postSlack } from '../helpers/slack-events.js';
import { testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

function reactionAdded(): Record<string, unknown> {
  const ts = nextSlackTs();
  return {
    token: 'legacy-verification-token',
    team_id: 'T0PARLEY',
    api_app_id: 'A0PARLEY',
    type: 'event_callback',
    event_id: `Ev0REACT${ts.replace('.', '')}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: 'T0PARLEY', user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
    event: { type: 'reaction_added', user: 'U0ALICE', reaction: 'tada', item: { type: 'message', channel: CHANNEL_ID, ts }, item_user: 'UBOT', event_ts: ts },
  };
}

describe("Slack events through Bolt next to a developer's slow middleware", () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let bot: Bot;
  let url: string;
  const reactions: string[] = [];

  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    const env = { ...testEnv, OPENAI_BASE_URL: ai.url, SLACK_BOT_TOKEN: 'xoxb-dev', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url };
    const app = new App({ token: 'xoxb-dev', receiver: new ParleyReceiver(), deferInitialization: true, clientOptions: { slackApiUrl: slack.url } });
    // Registered before slackAdapter(): it runs before parley's own middleware.
    app.use(async ({ next }) => {
      await new Promise((resolve) => setTimeout(resolve, 4000));
      await next();
    });
    app.event('reaction_added', async ({ event }) => void reactions.push(event.reaction));
    bot = createBot({ config: loadConfig(env), adapters: [slackAdapter({ ...slackConfigFromEnv(env)!, app })] });
    const server = await bot.listen(0, '127.0.0.1');
    await bot.ready;
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterAll(async () => {
    await bot.close();
    await slack.close();
    await ai.close();
  });

  it('answers a reaction_added at once, and the listener runs once after the middleware', async () => {
    const started = performance.now();
    expect((await postSlack(url, reactionAdded())).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(1000);
    await until(() => reactions[0], 'the reaction listener', 8000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reactions).toEqual(['tada']);
  }, 15_000);
});
