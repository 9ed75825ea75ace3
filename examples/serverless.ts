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
 *     const shown = await ctx.reply(result.text); // the text the user got (a retry finishes an earlier answer)
 *     const at = new Date().toISOString();
 *     await ctx.history.append([{ role: 'user', text: message.text, at: message.receivedAt }, { role: 'assistant', text: shown, at }]);
 *     await db.insert('conversation_log', { conversation: message.conversation.id, platform: message.platform,
 *       question: message.text, answer: shown, model: result.model, costUsd: result.usage.costUsd, at });
 *   });
 *
 * In your project, import from the package instead of the repository paths:
 *   import { createBot, loadConfig } from 'parley';
 */
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { createBot, loadConfig } from '../src/index.js';
import { webChat } from '../adapters/web/index.js';
import { runWhenExecutedDirectly, whenListening, type RunningExample } from './support.js';

// Created once per instance, on cold start, and reused by every request the instance serves.
const config = loadConfig({ ...process.env, MODE: 'direct' });

export const bot = createBot({
  config,
  adapters: [webChat({ page: true, token: config.web.token })],
  // Direct mode answers in the request; the worker only runs messages replayed from the dead letters.
  worker: true,
});

// A function never sees the client's address, so the web chat answers only visitor sessions
// (POST /web/sessions) and WEB_TOKEN (sent as "Authorization: Bearer <token>"). Set
// WEB_SESSION_SECRET wherever you run this, so every instance accepts the same sessions.
if (!config.web.sessionSecret) bot.logger.warn('WEB_SESSION_SECRET is not set: each instance signs visitor sessions with a secret of its own, which ends with it');

/** The function: the platform calls `fetch(request)` for every request. */
export default { fetch: bot.fetch };

/**
 * Serve the same handler locally (any Request → Response bridge works; this one is
 * @hono/node-server's). `port` 0 picks a free port, default PORT from the environment (3000).
 */
export async function start(port?: number): Promise<RunningExample> {
  const server = serve({ fetch: bot.fetch, port: port ?? config.port, hostname: '127.0.0.1' }) as Server;
  return whenListening(server, bot, 'serverless handler served locally');
}

// Run when executed directly (`tsx examples/serverless.ts`), not when imported by a test or a platform.
await runWhenExecutedDirectly(import.meta.url, start);
