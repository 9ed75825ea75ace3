/**
 * parley mounted in an Express app on loopback, as users embed it: fake Slack and AI, a bot with
 * the Slack adapter (after any `adapters` given), the app's own middleware set by `mount`, and one
 * close for all of it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createBot, loadConfig, type Adapter, type Bot, type Config } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../fakes/slack-api.js';
import { testEnv } from './web-bot.js';

export const EXPRESS_BOT_SIGNING_SECRET = 'test-signing-secret';

export interface ExpressBot {
  ai: FakeOpenAi;
  slack: FakeSlack;
  bot: Bot;
  server: Server;
  port: number;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** The chat.postMessage calls whose text holds `text`. */
  postsOf(text: string): SlackCall[];
  close(): Promise<void>;
}

export async function startExpressBot(options: { env?: Record<string, string>; adapters?: (config: Config) => Adapter[]; mount(app: Express, bot: Bot): void }): Promise<ExpressBot> {
  const ai = await startFakeOpenAi();
  const slack = await startFakeSlack();
  const env = { ...testEnv, OPENAI_BASE_URL: ai.url, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: EXPRESS_BOT_SIGNING_SECRET, SLACK_API_URL: slack.url, ...options.env };
  const config = loadConfig(env);
  const bot = createBot({ config, adapters: [...(options.adapters?.(config) ?? []), slackAdapter(slackConfigFromEnv(env)!)] });
  const app = express();
  options.mount(app, bot);
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await bot.ready;
  return {
    ai,
    slack,
    bot,
    server,
    port,
    base: `http://127.0.0.1:${port}`,
    postsOf: (text) => slack.callsTo('chat.postMessage').filter((call) => String(call.args.text).includes(text)),
    async close() {
      server.closeAllConnections();
      server.close();
      await bot.close({ delayMs: 0 });
      await ai.close();
      await slack.close();
    },
  };
}
