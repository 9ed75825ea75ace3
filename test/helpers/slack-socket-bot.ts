/**
 * A bot on Slack Socket Mode against fakes: the Web API (whose `apps.connections.open` hands out
 * the fake socket endpoint's URL), the Socket Mode endpoint and the AI. No HTTP server of ours.
 */
import type { Logger } from 'pino';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startFakeSlackSocket, type FakeSlackSocket } from '../fakes/slack-socket.js';
import { testEnv } from './web-bot.js';

export const BOT_TOKEN = 'xoxb-test';
export const APP_TOKEN = 'xapp-test';

export interface SocketBot {
  bot: Bot;
  slack: FakeSlack;
  socket: FakeSlackSocket;
  ai: FakeOpenAi;
  /** Close the bot (unless already closed) and the fakes. */
  closeAll(): Promise<void>;
}

/** Fake Slack (Web API + socket endpoint) and the AI, and a bot on Socket Mode with no signing secret; `setup` gets its Bolt App; `env` adds to its configuration. */
export async function startSocketBot(setup?: (app: ReturnType<typeof slackAdapter>['app']) => void, options: { logger?: Logger; env?: Record<string, string> } = {}): Promise<SocketBot> {
  const slack = await startFakeSlack();
  const socket = await startFakeSlackSocket();
  const ai = await startFakeOpenAi();
  slack.on('apps.connections.open', (call) =>
    call.token === APP_TOKEN ? { body: { ok: true, url: socket.url } } : { body: { ok: false, error: 'not_allowed_token_type' } },
  );
  // No SLACK_SIGNING_SECRET: Socket Mode is authenticated by the app token, not by signatures.
  const adapter = slackAdapter(slackConfigFromEnv({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: slack.url })!);
  setup?.(adapter.app);
  const bot = createBot({ config: loadConfig({ ...testEnv, ...options.env, OPENAI_BASE_URL: ai.url }), adapters: [adapter], logger: options.logger });
  let botClosed = false;
  const originalClose = bot.close.bind(bot);
  bot.close = () => ((botClosed = true), originalClose());
  const closeAll = async () => {
    if (!botClosed) await bot.close();
    // bot.close() does not wait for the close handshake (see the known gaps below): let it finish.
    await socket.disconnected(5000).catch(() => undefined);
    await socket.close();
    await slack.close();
    await ai.close();
  };
  try {
    await within(bot.ready, 8000, 'bot.ready (app.init + Socket Mode connect)');
  } catch (error) {
    await closeAll();
    throw error;
  }
  return { bot, slack, socket, ai, closeAll };
}

/** Fail instead of hanging when `promise` does not settle within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
