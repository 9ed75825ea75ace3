import { createBot, type Config } from '../src/index.js';
import { dynamoDbFromConfig } from '../aws/index.js';
import { adaptersFromConfig } from './adapters.js';
import { queueOption } from './queue.js';
import { closeOnSignals } from './shutdown.js';

/** `parley worker`: answer queued messages, no HTTP server. Several can run against one Redis or one SQS queue. */
export async function worker(config: Config, concurrency?: number): Promise<void> {
  const effective = concurrency ? { ...config, queue: { ...config.queue, concurrency } } : config;
  const bot = createBot({ config: effective, adapters: adaptersFromConfig(effective), worker: true, ...queueOption(effective), ...dynamoDbFromConfig(effective) });
  // Before waiting for the adapters: one whose platform is down is retried for as long as it takes,
  // and a SIGTERM meanwhile must still drain the jobs running.
  closeOnSignals(bot);
  await bot.start();
  await bot.ready;
  bot.logger.info({ concurrency: effective.queue.concurrency, adapters: bot.adapters.map((a) => a.platform) }, 'parley worker running');
}
