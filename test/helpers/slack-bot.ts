/**
 * A real bot server with the Slack adapter, pointed at a fake Slack Web API and a fake AI.
 */
import type { AddressInfo } from 'node:net';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createBot, loadConfig, type Bot, type BotOptions } from '../../src/index.js';
import { afterEach } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi, type Script } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { testEnv } from './web-bot.js';

export interface SlackBot {
  bot: Bot;
  /** The events URL to post Slack requests to. */
  url: string;
  /** The server's base URL (for /healthz, /readyz, /metrics). */
  base: string;
  close(): Promise<void>;
}

export async function startSlackBot(
  slack: FakeSlack,
  ai: FakeOpenAi,
  env: Record<string, string> = {},
  setup?: (app: ReturnType<typeof slackAdapter>['app']) => void,
  /**
   * awaitReady false: serve at once, while the adapter may still be starting (a Slack outage at
   * start); `bot`: more createBot options (a shared store, a conversation log); `port`: listen
   * there (default: any free port).
   */
  options: { awaitReady?: boolean; bot?: Partial<BotOptions>; port?: number } = {},
): Promise<SlackBot> {
  const allEnv = {
    ...testEnv,
    OPENAI_BASE_URL: ai.url,
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: 'old-secret-000,test-signing-secret',
    SLACK_API_URL: slack.url,
    SLACK_SUGGESTED_PROMPTS: 'Summarise this channel|Draft a reply',
    ...env,
  };
  const adapter = slackAdapter(slackConfigFromEnv(allEnv)!);
  setup?.(adapter.app);
  const bot = createBot({ config: loadConfig(allEnv), adapters: [adapter], ...options.bot });
  const server = await bot.listen(options.port ?? 0, '127.0.0.1');
  if (options.awaitReady !== false) await bot.ready;
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { bot, url: `${base}/slack/events`, base, close: async () => void (await bot.close()) };
}

/** A test's fake Slack, fake AI and bot server. */
export interface SlackWorld {
  slack: FakeSlack;
  ai: FakeOpenAi;
  server: SlackBot;
}

/**
 * The fixture most Slack e2e tests write out: call once in a file, then `await start({...})` in
 * each test; what it started is closed after each test. `slack` sets the fake's answers before
 * the bot starts (its auth.test included).
 */
export function slackWorldPerTest(): (options?: { ai?: Script; env?: Record<string, string>; slack?: (slack: FakeSlack) => void }) => Promise<SlackWorld> {
  let world: SlackWorld | undefined;
  afterEach(async () => {
    await world?.server.close();
    await world?.slack.close();
    await world?.ai.close();
    world = undefined;
  });
  return async (options = {}) => {
    const slack = await startFakeSlack();
    options.slack?.(slack);
    const ai = await startFakeOpenAi(options.ai);
    world = { slack, ai, server: await startSlackBot(slack, ai, options.env) };
    return world;
  };
}
