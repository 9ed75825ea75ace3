/**
 * Start a real bot server (web chat adapter, memory defaults) on a free port, and talk to it
 * the way the chat page does.
 */
import type { AddressInfo } from 'node:net';
import { webChat, type TranscriptEntry } from '../../adapters/web/index.js';
import { createBot, loadConfig, type Bot, type BotOptions } from '../../src/index.js';

/**
 * Quick retries and quiet logs, so failure tests take milliseconds, not minutes. The web chat's
 * per-address limits are off: every test client is 127.0.0.1 (test/e2e/web-limits.test.ts sets them).
 */
export const testEnv = {
  LOG_LEVEL: 'silent',
  PORT: '0',
  JOB_BACKOFF_MS: '20',
  AI_BACKOFF_MS: '20',
  AI_TIMEOUT_MS: '3000',
  AI_DEADLINE_MS: '10000',
  WEB_REQUESTS_PER_IP_PER_MINUTE: '0',
  WEB_SESSIONS_PER_IP_PER_MINUTE: '0',
};

export interface WebBot {
  bot: Bot;
  url: string;
  post(conversation: string, text: string, extra?: Record<string, unknown>): Promise<Response>;
  transcript(conversation: string): Promise<TranscriptEntry[]>;
  /** Poll the transcript until `done` holds (or fail after `timeoutMs`). */
  waitFor(conversation: string, done: (entries: TranscriptEntry[]) => boolean, timeoutMs?: number): Promise<TranscriptEntry[]>;
  close(): Promise<void>;
}

/** `port`: 0 for any free one, or a port of the test's own range. */
export async function startWebBot(env: Record<string, string> = {}, options: Partial<BotOptions> = {}, port = 0): Promise<WebBot> {
  const config = loadConfig({ ...testEnv, ...env });
  const bot = createBot({ config, adapters: [webChat({ page: true, token: config.web.token })], ...options });
  // Whatever HOST the configuration names, tests only ever listen on loopback.
  const server = await bot.listen(port, '127.0.0.1');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const transcript = async (conversation: string) => {
    const res = await fetch(`${url}/web/conversations/${encodeURIComponent(conversation)}`);
    return ((await res.json()) as { messages: TranscriptEntry[] }).messages;
  };
  return {
    bot,
    url,
    post: (conversation, text, extra = {}) =>
      fetch(`${url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation, text, ...extra }) }),
    transcript,
    async waitFor(conversation, done, timeoutMs = 8000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const entries = await transcript(conversation);
        if (done(entries)) return entries;
        if (Date.now() > until) throw new Error(`transcript of ${conversation} never matched: ${JSON.stringify(entries)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async close() {
      await bot.close();
    },
  };
}

export const assistantReplies = (entries: TranscriptEntry[]) => entries.filter((e) => e.role === 'assistant');
