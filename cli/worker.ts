import { createBot, type Config } from '../src/index.js';
import { dynamoDbFromConfig } from '../aws/index.js';
import { adaptersFromConfig, warnMisspeltVariables } from './adapters.js';
import { queueOption } from './queue.js';
import { closeOnSignals } from './shutdown.js';
import { metricsPort, serveWorkerMetrics } from './worker-metrics.js';
import { lowerPriority, workerNice } from './worker-nice.js';

/**
 * `parley worker`: answer queued messages; no webhooks, only /metrics, /healthz and /readyz on
 * METRICS_PORT. Several can run against one Redis or one SQS queue.
 */
export async function worker(config: Config, concurrency?: number, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const port = metricsPort(env.METRICS_PORT);
  const priority = lowerPriority(workerNice(env.WORKER_NICE));
  const effective = concurrency ? { ...config, queue: { ...config.queue, concurrency } } : config;
  const bot = createBot({ config: effective, adapters: adaptersFromConfig(effective, { sendsOnly: true }), worker: true, ...queueOption(effective), ...dynamoDbFromConfig(effective) });
  warnMisspeltVariables(bot.logger, env);
  if (priority.error) bot.logger.warn({ err: priority.error, nice: priority.nice }, 'could not lower the worker\'s CPU priority (WORKER_NICE): it runs as started');
  // Before waiting for the adapters: one whose platform is down is retried for as long as it takes,
  // and a SIGTERM meanwhile must still drain the jobs running. No shutdown delay: no load balancer
  // sends a worker webhooks, so SHUTDOWN_DELAY_MS would only hold its stop.
  const stopping = closeOnSignals(bot, 0);
  if (port !== 'off') await serveWorkerMetrics(bot, port, config.host);
  await bot.start();
  await bot.ready;
  // A SIGTERM while starting waited for Redis: the worker is shutting down, not running.
  if (stopping()) return;
  bot.logger.info({ concurrency: effective.queue.concurrency, adapters: bot.adapters.map((a) => a.platform), nice: priority.nice }, 'parley worker running');
}
