/**
 * `sqsWorker(bot)`: the SQS-triggered worker function. Each record's job runs through the bot's
 * worker (the same processJob as `parley worker`); the answer lists the messages that must stay
 * in the queue (ReportBatchItemFailures), so one bad message never re-runs its batch.
 */
import { ConfigError, type Bot } from '../src/index.js';
import type { SqsBatchResponse, SqsEvent } from './lambda-events.js';
import { SqsQueue } from './sqs-queue.js';

export type SqsWorkerHandler = (event: SqsEvent, context?: unknown) => Promise<SqsBatchResponse>;

/** Answer the queued messages Lambda hands over. The bot's queue must be an SqsQueue. */
export function sqsWorker(bot: Bot): SqsWorkerHandler {
  const queue = bot.queue;
  if (!(queue instanceof SqsQueue)) throw new ConfigError('sqsWorker(bot) needs a bot whose queue is on SQS: createBot({ queue: sqsQueueFromConfig(config) }) or set SQS_QUEUE_URL');
  queue.drivenByLambda();
  return async (event) => {
    await bot.start();
    const left = await queue.runBatch(
      event.Records.map((record) => ({ messageId: record.messageId, receiptHandle: record.receiptHandle, body: record.body, groupId: record.attributes.MessageGroupId })),
    );
    return { batchItemFailures: left.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}
