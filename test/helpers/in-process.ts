/**
 * Send requests to a bot's own fetch handler in this process: the same HTTP layer (body limit,
 * router, adapters) as a listening server, without sockets, so thousands of requests take seconds.
 */
import { createBot, loadConfig, type Adapter, type Bot } from '../../src/index.js';

/** What the post helpers call to send: the global fetch, or a bot's handler in this process. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** A FetchLike that answers from `bot.fetch`, as if the request came from this machine. */
export function inProcessFetch(bot: Bot, remoteAddress = '127.0.0.1'): FetchLike {
  return (url, init) => bot.fetch(new Request(url, init), { remoteAddress });
}

/** A bot on one adapter with no worker (nothing is answered, so no AI is needed), started, and its in-process fetch. */
export async function startInProcessBot(env: Record<string, string>, adapter: Adapter): Promise<{ bot: Bot; send: FetchLike }> {
  const bot = createBot({ config: loadConfig(env), adapters: [adapter], worker: false });
  await bot.ready;
  return { bot, send: inProcessFetch(bot) };
}
