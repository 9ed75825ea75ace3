/**
 * Helpers the examples share; in your app you would keep whichever you need.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { Bot } from '../src/index.js';

/** What every example's `start()` returns. */
export interface RunningExample {
  url: string;
  /** Stop the HTTP server, then let the bot finish its running jobs and release everything. */
  close(): Promise<void>;
}

/**
 * Wait until `server` listens, log where (`<what> on <url>`), and return the running example:
 * its `close()` stops the server first (no new requests), then the bot.
 */
export async function whenListening(server: Server, bot: Bot, what: string): Promise<RunningExample> {
  if (!server.listening) await once(server, 'listening');
  const url = urlOf(server);
  bot.logger.info({ url }, `${what} on ${url}`);
  return {
    url,
    async close() {
      await closeServer(server);
      await bot.close();
    },
  };
}

/** The URL a listening server can be reached at (an IPv6 address in brackets). */
export function urlOf(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * Stop taking connections and wait for open ones. Idle keep-alive connections are closed at
 * once; a browser's open chat event stream never ends by itself, so it is cut after a grace period.
 */
export function closeServer(server: Server, graceMs = 5000): Promise<void> {
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

/**
 * Start the example when its file is the program (`npx tsx examples/express.ts`), not when a test
 * or a platform imports it (`moduleUrl` is the example's `import.meta.url`), and stop it cleanly
 * on Ctrl-C or SIGTERM.
 */
export async function runWhenExecutedDirectly(moduleUrl: string, start: () => Promise<RunningExample>): Promise<void> {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  const running = await start();
  const stop = () => void running.close().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
