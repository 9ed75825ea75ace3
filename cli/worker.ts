import { createBot, type Config } from '../src/index.js';
import { adaptersFromConfig } from './adapters.js';

/** `parley worker`: answer queued messages, no HTTP server. Several can run against one Redis. */
export async function worker(config: Config, concurrency?: number): Promise<void> {
  const effective = concurrency ? { ...config, queue: { ...config.queue, concurrency } } : config;
  const bot = createBot({ config: effective, adapters: adaptersFromConfig(effective), worker: true });
  await bot.ready;
  bot.logger.info({ concurrency: effective.queue.concurrency, adapters: bot.adapters.map((a) => a.platform) }, 'parley worker running');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    bot.logger.info({ signal }, 'shutting down: finishing running jobs');
    void bot.close().then(
      () => process.exit(0),
      (error: unknown) => {
        bot.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
