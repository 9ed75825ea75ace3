/**
 * parley with a third-party adapter (./adapter.ts): your system posts signed messages in, and
 * gets the bot's replies posted back to a callback URL of its own.
 *
 *   CALLBACK_URL=https://your.system/replies CALLBACK_SECRET=… OPENAI_API_KEY=… npx tsx examples/http-callback/app.ts
 *
 * Then POST {"id","conversation","user","text"} to http://127.0.0.1:3000/callback/messages with
 * X-Signature: sha256=<hex HMAC-SHA256 of the body under CALLBACK_SECRET>.
 *
 * In your project, import from the package instead of the repository paths:
 *   import { createBot, loadConfig } from 'parley';
 */
import { createBot, loadConfig } from '../../src/index.js';
import { runWhenExecutedDirectly, urlOf, type RunningExample } from '../support.js';
import { httpCallbackAdapter } from './adapter.js';

export type { RunningExample };

/** Start the app; `port` 0 picks a free port (tests), default PORT from the environment (3000). */
export async function start(port?: number, env: Record<string, string | undefined> = process.env): Promise<RunningExample> {
  const config = loadConfig(env);
  if (!env.CALLBACK_URL || !env.CALLBACK_SECRET) throw new Error('Set CALLBACK_URL and CALLBACK_SECRET to run this example.');
  const adapter = httpCallbackAdapter({
    callbackUrl: env.CALLBACK_URL,
    secrets: env.CALLBACK_SECRET.split(','),
    ...(env.CALLBACK_MAX_CHARS ? { maxChars: Number(env.CALLBACK_MAX_CHARS) } : {}),
  });
  const bot = createBot({ config, adapters: [adapter] });
  const server = await bot.listen(port ?? config.port, config.host);
  await bot.ready;
  const url = urlOf(server);
  bot.logger.info({ url }, `HTTP callback adapter listening on ${url}${adapter.path}`);
  return { url, close: async () => void (await bot.close()) };
}

// Run when executed directly, not when imported by a test.
await runWhenExecutedDirectly(import.meta.url, start);
