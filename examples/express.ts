/**
 * parley inside an existing Express 5 app.
 *
 *   npx tsx examples/express.ts          # then open http://127.0.0.1:3000/
 *
 * The app keeps its own routes (GET /hello, a JSON API under /api) and its own body parser;
 * parley adds the web chat (/, /web/*) and its operational routes (/healthz, /readyz, /metrics).
 * Every other path falls through to Express, so the app's own 404 handling still applies.
 *
 * In your project, import from the package instead of the repository paths:
 *   import { createBot, loadConfig } from 'parley';
 */
import express from 'express';
import { createBot, loadConfig } from '../src/index.js';
import { webChat } from '../adapters/web/index.js';
import { runWhenExecutedDirectly, whenListening, type RunningExample } from './support.js';

/** Start the app; `port` 0 picks a free port (tests), default PORT from the environment (3000). */
export async function start(port?: number): Promise<RunningExample> {
  // All settings come from the environment (OPENAI_API_KEY, LOG_LEVEL, ...); see `parley check`.
  const config = loadConfig();
  const bot = createBot({ config, adapters: [webChat({ page: true, token: config.web.token })] });

  const app = express();

  // 1. parley first. Platforms sign the exact bytes they send, so parley must read the raw
  //    body itself; a JSON parser mounted earlier would consume it and parley answers 500
  //    "body_already_parsed". parley only answers its own paths and calls next() for the rest.
  app.use(bot.middleware());

  // 2. Then the app's own body parser, for the app's own API.
  //
  //    If a parser must run before parley (say it is mounted globally by a framework you do
  //    not control), have it keep the raw bytes; parley uses `req.rawBody` when it is there:
  //
  //      app.use(express.json({ verify: (req, _res, buf) => { (req as { rawBody?: Buffer }).rawBody = buf; } }));
  //      app.use(bot.middleware());
  //
  //    (and the same `verify` on express.urlencoded() for Twilio's form-encoded webhooks).
  app.use(express.json());

  // 3. The app's own routes, untouched by parley.
  app.get('/hello', (_req, res) => {
    res.json({ message: 'hello from express' });
  });
  app.post('/api/echo', (req, res) => {
    res.json({ received: req.body as unknown });
  });

  // HOST defaults to 127.0.0.1. The web chat needs no setup only while the server is bound to
  // loopback, so listen on the same HOST the bot was configured with. To serve it to other
  // machines (another HOST, or PUBLIC_URL behind a proxy), set WEB_SESSION_SECRET, the same in
  // every process: visitors then start sessions (WEB_TOKEN is only the operator's own key).
  const server = app.listen(port ?? config.port, config.host);
  return whenListening(server, bot, 'express app with parley listening');
}

// Run when executed directly (`tsx examples/express.ts`), not when imported by a test.
await runWhenExecutedDirectly(import.meta.url, start);
