/**
 * parley on a plain `node:http` server, next to a request handler of your own.
 *
 *   npx tsx examples/http.ts             # then open http://127.0.0.1:3000/
 *
 * `bot.middleware()` is a Connect-style `(req, res, next)` function: it answers parley's own
 * paths (/, /web/*, /healthz, /readyz, /metrics, adapter webhooks) and calls `next` for
 * everything else. (Without anything of your own, `await bot.listen()` does all of this.)
 *
 * In your project, import from the package instead of the repository paths:
 *   import { createBot, loadConfig } from 'parley';
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createBot, loadConfig } from '../src/index.js';
import { webChat } from '../adapters/web/index.js';

export interface RunningExample {
  url: string;
  /** Stop the HTTP server, then let the bot finish its running jobs and release everything. */
  close(): Promise<void>;
}

/** Your own handler: whatever parley does not serve arrives here. */
function app(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'GET' && req.url === '/hello') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: 'hello from node:http' }));
    return;
  }
  res.statusCode = 404;
  res.end();
}

/** Start the server; `port` 0 picks a free port (tests), default PORT from the environment (3000). */
export async function start(port?: number): Promise<RunningExample> {
  // All settings come from the environment (OPENAI_API_KEY, LOG_LEVEL, ...); see `parley check`.
  const config = loadConfig();
  const bot = createBot({ config, adapters: [webChat({ page: true, token: config.web.token })] });
  const middleware = bot.middleware();

  const server = createServer((req, res) => middleware(req, res, () => app(req, res)));

  // HOST defaults to 127.0.0.1. The web chat needs no token only while the server is bound to
  // loopback, so listen on the same HOST the bot was configured with (set WEB_TOKEN otherwise).
  server.listen(port ?? config.port, config.host);
  await once(server, 'listening');
  const url = urlOf(server);
  bot.logger.info({ url }, `node:http server with parley listening on ${url}`);

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

// Run when executed directly (`tsx examples/http.ts`), not when imported by a test.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const running = await start();
  const stop = () => void running.close().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
