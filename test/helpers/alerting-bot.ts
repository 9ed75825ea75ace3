/**
 * A bot (web chat) answering with the fake OpenAI and posting its alerts to a local fake of the
 * alert webhook: the three started together and closed together.
 */
import { startFakeCallback, type FakeCallback } from '../fakes/callback-server.js';
import { startFakeOpenAi, type FakeOpenAi, type FakeOpenAiOptions } from '../fakes/openai-server.js';
import { startWebBot, type WebBot } from './web-bot.js';

export interface AlertingBot {
  ai: FakeOpenAi;
  webhook: FakeCallback;
  web: WebBot;
  /** The bot first (which waits for the alerts it is posting), then the fakes. */
  close(): Promise<void>;
}

/** OPENAI_BASE_URL, ALERT_WEBHOOK_URL and CACHE_TTL_SECONDS=0 (every message reaches the AI) set; `env` adds to them. */
export async function startAlertingBot(env: Record<string, string>, aiOptions: FakeOpenAiOptions = {}): Promise<AlertingBot> {
  const ai = await startFakeOpenAi(undefined, aiOptions);
  const webhook = await startFakeCallback();
  const web = await startWebBot({ OPENAI_BASE_URL: ai.url, ALERT_WEBHOOK_URL: webhook.url, CACHE_TTL_SECONDS: '0', ...env });
  return {
    ai,
    webhook,
    web,
    async close() {
      await web.close();
      await ai.close();
      await webhook.close();
    },
  };
}
