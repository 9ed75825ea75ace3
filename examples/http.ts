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
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createBot, loadConfig } from '../src/index.js';
import { webChat } from '../adapters/web/index.js';
import { runWhenExecutedDirectly, whenListening, type RunningExample } from './support.js';

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

  // HOST defaults to 127.0.0.1. The web chat needs no setup only while the server is bound to
  // loopback, so listen on the same HOST the bot was configured with. To serve it to other
  // machines (another HOST, or PUBLIC_URL behind a proxy), set WEB_SESSION_SECRET, the same in
  // every process: visitors then start sessions (WEB_TOKEN is only the operator's own key).
  server.listen(port ?? config.port, config.host);
  return whenListening(server, bot, 'node:http server with parley listening');
}

// Run when executed directly (`tsx examples/http.ts`), not when imported by a test.
await runWhenExecutedDirectly(import.meta.url, start);
