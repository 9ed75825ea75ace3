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
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import { createBot, loadConfig } from '../src/index.js';
import { webChat } from '../adapters/web/index.js';

export interface RunningExample {
  url: string;
  /** Stop the HTTP server, then let the bot finish its running jobs and release everything. */
  close(): Promise<void>;
}

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

  // HOST defaults to 127.0.0.1. The web chat needs no token only while the server is bound to
  // loopback, so listen on the same HOST the bot was configured with (set WEB_TOKEN otherwise).
  const server = serve({ fetch: app.fetch, port: port ?? config.port, hostname: config.host }) as Server;
  await once(server, 'listening');
  const url = urlOf(server);
  bot.logger.info({ url }, `hono app with parley listening on ${url}`);

  return {
    url,
    async close() {
      await closeServer(server);
      await bot.close();
    },
  };
}

function urlOf(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * Stop taking connections and wait for open ones. Idle keep-alive connections are closed at
 * once; a browser's open chat event stream never ends by itself, so it is cut after a grace period.
 */
function closeServer(server: Server, graceMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close((error) => {
      clearTimeout(force);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

// Run when executed directly (`tsx examples/hono.ts`), not when imported by a test.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const running = await start();
  const stop = () => void running.close().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
