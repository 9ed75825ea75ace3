import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBot, type Config } from '../src/index.js';
import { adaptersFromConfig } from './adapters.js';

/** `parley serve`: the standalone server (ingress and, unless --no-worker, the worker). */
export async function serve(config: Config, options: { worker: boolean }): Promise<void> {
  const bot = createBot({ config, adapters: adaptersFromConfig(config), worker: options.worker });
  const server: Server = await bot.listen();
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  bot.logger.info({ url, mode: config.mode, adapters: bot.adapters.map((a) => a.platform), worker: options.worker }, `parley listening on ${url}`);
  if (!options.worker && !config.redisUrl) bot.logger.warn('--no-worker without REDIS_URL: nothing will answer the messages this process queues');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    bot.logger.info({ signal }, 'shutting down: no new requests, finishing running jobs');
    void bot.close().then(
      ({ unfinished }) => {
        bot.logger.info({ unfinished }, 'stopped');
        process.exit(0);
      },
      (error: unknown) => {
        bot.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
