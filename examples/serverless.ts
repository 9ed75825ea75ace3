/**
 * parley as a serverless function: one fetch-style handler, the reply produced inside the request.
 *
 *   npx tsx examples/serverless.ts       # a local server for trying it: http://127.0.0.1:3000/
 *
 * Platforms that take a module whose default export has a `fetch(request)` method (Vercel
 * Functions, Bun, `deno serve`, Cloudflare Workers with Node.js compatibility) call
 * `bot.fetch` for every request; there is no server of ours to start.
 *
 * MODE=direct: a function may be frozen as soon as it has answered, so nothing can be left for
 * a background worker. Direct mode answers inside the request instead (verify → AI → reply),
 * within DIRECT_DEADLINE_MS (default 10 s). For Twilio the reply even becomes the TwiML answer.
 *
 * Conversations logged to a table: a function keeps nothing between invocations, so the classic
 * serverless design writes every turn to a table (DynamoDB, Postgres...). parley keeps history,
 * transcripts and the dedupe of redelivered webhooks in its Store: in memory by default, which
 * here means per instance and gone after a cold start. For a real deployment pass a shared
 * `store` to createBot (any implementation of the Store interface), and if you also want an
 * audit table, log the turns from your own handler, e.g.:
 *
 *   bot.onMessage(async (message, ctx) => {
 *     const history = await ctx.history.window();
 *     const result = await ctx.ai.reply({ conversationId: message.conversation.id, history, text: message.text });
 *     await ctx.reply(result.text);
 *     const at = new Date().toISOString();
 *     await ctx.history.append([{ role: 'user', text: message.text, at: message.receivedAt }, { role: 'assistant', text: result.text, at }]);
 *     await db.insert('conversation_log', { conversation: message.conversation.id, platform: message.platform,
 *       question: message.text, answer: result.text, model: result.model, costUsd: result.usage.costUsd, at });
 *   });
 *
 * In your project, import from the package instead of the repository paths:
 *   import { createBot, loadConfig } from 'parley';
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { createBot, loadConfig } from '../src/index.js';
import { webChat } from '../adapters/web/index.js';

// Created once per instance, on cold start, and reused by every request the instance serves.
const config = loadConfig({ ...process.env, MODE: 'direct' });

export const bot = createBot({
  config,
  adapters: [webChat({ page: true, token: config.web.token })],
  // Direct mode answers in the request; the worker only runs messages replayed from the dead letters.
  worker: true,
});

// A function never sees the client's address, so the web chat refuses every request without
// WEB_TOKEN (sent as "Authorization: Bearer <token>"). Set it wherever you run this.
if (!config.web.token) bot.logger.warn('WEB_TOKEN is not set: the web chat will refuse every request');

/** The function: the platform calls `fetch(request)` for every request. */
export default { fetch: bot.fetch };

export interface RunningExample {
  url: string;
  /** Stop the HTTP server, then let the bot finish its running jobs and release everything. */
  close(): Promise<void>;
}

/**
 * Serve the same handler locally (any Request → Response bridge works; this one is
 * @hono/node-server's). `port` 0 picks a free port, default PORT from the environment (3000).
 */
export async function start(port?: number): Promise<RunningExample> {
  const server = serve({ fetch: bot.fetch, port: port ?? config.port, hostname: '127.0.0.1' }) as Server;
  await once(server, 'listening');
  const { address, port: actual } = server.address() as AddressInfo;
  const url = `http://${address}:${actual}`;
  bot.logger.info({ url }, `serverless handler served locally on ${url}`);
  return {
    url,
    async close() {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
        // A browser's open chat event stream never ends by itself.
        setTimeout(() => server.closeAllConnections(), 5000).unref();
      });
      await bot.close();
    },
  };
}

// Run when executed directly (`tsx examples/serverless.ts`), not when imported by a test or a platform.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const running = await start();
  const stop = () => void running.close().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
