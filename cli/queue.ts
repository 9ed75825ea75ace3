import { sqsQueueFromConfig } from '../aws/index.js';
import { createLogger, type Config, type JobData, type JobQueue } from '../src/index.js';

/**
 * The queue the CLI hands createBot: on SQS when SQS_QUEUE_URL is set (the core never imports
 * parley/aws); otherwise none, and the bot builds its own (in memory, or BullMQ on REDIS_URL).
 */
export function queueOption(config: Config): { queue?: JobQueue<JobData> } {
  const queue = sqsQueueFromConfig(config, { logger: createLogger(config.logLevel, config.logFormat).child({ queue: 'sqs' }) });
  return queue ? { queue } : {};
}
