/**
 * parley inside an existing Hono app, served on Node by @hono/node-server.
 *
 *   npx tsx examples/hono.ts             # then open http://127.0.0.1:3000/
 *
 * Hono speaks Web `Request`/`Response`, so parley plugs in through `bot.fetch`: route parley's
 * paths to it and pass the untouched request (`c.req.raw`). Do not read the body in a Hono
 * middleware before these routes (e.g. a global `c.req.json()`), since parley needs the raw
 * bytes the platforms signed.
 *
 * In your project, import from the package instead of the repository paths:
 *   import { createBot, loadConfig } from 'parley';
 */
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import { createBot, loadConfig } from '../src/index.js';
import { webChat } from '../adapters/web/index.js';
import { runWhenExecutedDirectly, whenListening, type RunningExample } from './support.js';

/** Start the app; `port` 0 picks a free port (tests), default PORT from the environment (3000). */
export async function start(port?: number): Promise<RunningExample> {
  // All settings come from the environment (OPENAI_API_KEY, LOG_LEVEL, ...); see `parley check`.
  const config = loadConfig();
  const bot = createBot({ config, adapters: [webChat({ page: true, token: config.web.token })] });

  const app = new Hono();

  // parley's paths: the chat page, the web chat API, and the operational routes. (Add each
  // platform adapter's webhook path here too, e.g. '/slack/events', when you turn one on.)
  // bot.fetch answers 404 for anything it does not serve, so give it only its own paths.
  for (const path of ['/', '/web/*', '/healthz', '/readyz', '/metrics']) {
    // The client's address lets the web chat tell this machine from others (no token needed locally).
    app.all(path, (c) => bot.fetch(c.req.raw, { remoteAddress: getConnInfo(c).remote.address }));
  }

  // The app's own routes.
  app.get('/hello', (c) => c.json({ message: 'hello from hono' }));
  app.post('/api/echo', async (c) => c.json({ received: await c.req.json<unknown>() }));

  // HOST defaults to 127.0.0.1. The web chat needs no setup only while the server is bound to
  // loopback, so listen on the same HOST the bot was configured with. To serve it to other
  // machines (another HOST, or PUBLIC_URL behind a proxy), set WEB_SESSION_SECRET, the same in
  // every process: visitors then start sessions (WEB_TOKEN is only the operator's own key).
  const server = serve({ fetch: app.fetch, port: port ?? config.port, hostname: config.host }) as Server;
  return whenListening(server, bot, 'hono app with parley listening');
}

// Run when executed directly (`tsx examples/hono.ts`), not when imported by a test.
await runWhenExecutedDirectly(import.meta.url, start);
