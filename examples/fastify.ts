/**
 * parley inside an existing Fastify 5 app, without @fastify/middie.
 *
 *   npx tsx examples/fastify.ts          # then open http://127.0.0.1:3000/
 *
 * Fastify does not run Connect-style `(req, res, next)` middleware by itself. The smallest
 * robust way in is an `onRequest` hook (the same place @fastify/middie runs middleware):
 *
 *  - onRequest runs BEFORE Fastify parses the body, so parley reads the raw bytes the
 *    platforms signed. No content-type parser has to be removed or replaced.
 *  - parley itself decides which paths are its own (/, /web/*, /healthz, /readyz, /metrics and
 *    every adapter's webhook), so adding an adapter later needs no new Fastify route.
 *  - Any other request is handed straight back to Fastify: routing, body parsing, hooks and the
 *    404 handler behave exactly as before.
 *
 * (Alternatives: @fastify/middie + `fastify.use(bot.middleware())`; or Fastify routes for
 * parley's paths in an encapsulated plugin that calls `removeAllContentTypeParsers()` and
 * `addContentTypeParser('*', (_req, _payload, done) => done(null))`, then `reply.hijack()` and
 * `middleware(request.raw, reply.raw)`. That works too, but you must list parley's paths yourself.)
 *
 * In your project, import from the package instead of the repository paths:
 *   import { createBot, loadConfig } from 'parley';
 */
import Fastify, { type FastifyError } from 'fastify';
import { createBot, loadConfig } from '../src/index.js';
import { webChat } from '../adapters/web/index.js';
import { runWhenExecutedDirectly, urlOf, type RunningExample } from './support.js';

/** Start the app; `port` 0 picks a free port (tests), default PORT from the environment (3000). */
export async function start(port?: number): Promise<RunningExample> {
  // All settings come from the environment (OPENAI_API_KEY, LOG_LEVEL, ...); see `parley check`.
  const config = loadConfig();
  const bot = createBot({ config, adapters: [webChat({ page: true, token: config.web.token })] });
  const parley = bot.middleware();

  const fastify = Fastify();

  // parley's routes, before Fastify touches the body. For a path parley does not serve the
  // middleware calls `next` right away and Fastify carries on; for its own paths parley writes
  // the response on the raw Node objects, so the reply is marked hijacked and Fastify stays out.
  fastify.addHook('onRequest', (request, reply, done) => {
    let passedOn = false;
    parley(request.raw, reply.raw, (error) => {
      passedOn = true;
      done(error as FastifyError | undefined);
    });
    if (!passedOn) reply.hijack();
  });

  // The app's own routes, with Fastify's usual JSON body parsing.
  fastify.get('/hello', async () => ({ message: 'hello from fastify' }));
  fastify.post('/api/echo', async (request) => ({ received: request.body }));

  // HOST defaults to 127.0.0.1. The web chat needs no setup only while the server is bound to
  // loopback, so listen on the same HOST the bot was configured with. To serve it to other
  // machines (another HOST, or PUBLIC_URL behind a proxy), set WEB_SESSION_SECRET, the same in
  // every process: visitors then start sessions (WEB_TOKEN is only the operator's own key).
  await fastify.listen({ port: port ?? config.port, host: config.host });
  const url = urlOf(fastify.server);
  bot.logger.info({ url }, `fastify app with parley listening on ${url}`);

  return {
    url,
    async close() {
      // A browser's open chat event stream never ends by itself: cut open connections after a grace period.
      const force = setTimeout(() => fastify.server.closeAllConnections(), 5000);
      force.unref();
      await fastify.close();
      clearTimeout(force);
      await bot.close();
    },
  };
}

// Run when executed directly (`tsx examples/fastify.ts`), not when imported by a test.
await runWhenExecutedDirectly(import.meta.url, start);
