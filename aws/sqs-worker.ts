/**
 * `sqsWorker(bot)`: the SQS-triggered worker function. Each record's job runs through the bot's
 * worker (the same processJob as `parley worker`); the answer lists the messages that must stay
 * in the queue (ReportBatchItemFailures), so one bad message never re-runs its batch. Lambda
 * deletes none of a batch its timeout cut off: what the function still has just before its timeout
 * is given back (sqs-lease.ts), visible again seconds after it, not after the queue's visibility timeout.
 */
import { ConfigError, sqsUnwired, type Bot } from '../src/index.js';
import { orAfter } from '../src/timeout.js';
import type { SqsBatchResponse, SqsEvent } from './lambda-events.js';
import { SqsQueue } from './sqs-queue.js';
import { unsharedStoreWarning } from './sqs-shared-store.js';

export type SqsWorkerHandler = (event: SqsEvent, context?: unknown) => Promise<SqsBatchResponse>;

/** What is read of Lambda's context: the time left before the function is stopped. */
interface LambdaContext {
  getRemainingTimeInMillis?(): number;
}

/** Time for posting a reply after the AI's last word. */
const REPLY_ALLOWANCE_MS = 10_000;

/** Answer the queued messages Lambda hands over. The bot's queue must be an SqsQueue. */
export function sqsWorker(bot: Bot): SqsWorkerHandler {
  const queue = bot.queue;
  if (!(queue instanceof SqsQueue)) {
    throw new ConfigError(`sqsWorker(bot) needs a bot whose queue is on SQS. ${sqsUnwired(bot.config, 'elsewhere') ?? 'Set SQS_QUEUE_URL and build the bot with createBot({ config, queue: sqsQueueFromConfig(config) })'}`);
  }
  queue.drivenByLambda();
  const unshared = unsharedStoreWarning(bot.store);
  if (unshared) bot.logger.warn(`sqsWorker: ${unshared}`);
  // A message started must be able to finish before the function's timeout: the AI's deadline and a reply.
  const needsMs = bot.config.ai.deadlineMs + REPLY_ALLOWANCE_MS;
  let warned = false;
  return async (event, context) => {
    // Wired to something else (an API Gateway route, the Lambda console's sample event): say so, not a TypeError.
    if (!Array.isArray((event as Partial<SqsEvent> | undefined)?.Records)) {
      throw new ConfigError('sqsWorker: this event is not an SQS event (it has no Records). Fix: trigger this function from the SQS queue (an sqs event source with ReportBatchItemFailures, as examples/aws/serverless.yml does); HTTP events go to lambdaHandler(bot)');
    }
    await bot.start();
    const remaining = (context as LambdaContext | undefined)?.getRemainingTimeInMillis?.();
    if (remaining !== undefined && remaining < needsMs && !warned) {
      warned = true;
      bot.logger.warn(
        { remainingMs: remaining, needsMs },
        "sqsWorker: the function's timeout is shorter than AI_DEADLINE_MS plus 10 s for the reply; a slow answer can be cut off. Raise the timeout (or lower AI_DEADLINE_MS)",
      );
    }
    const stopsAt = typeof remaining === 'number' ? Date.now() + remaining : undefined;
    const left = await queue.runBatch(
      event.Records.map((record) => ({ messageId: record.messageId, receiptHandle: record.receiptHandle, body: record.body, groupId: record.attributes.MessageGroupId, receiveCount: Number(record.attributes.ApproximateReceiveCount ?? 1) })),
      // What it still has just before its timeout is given back, so the next invocation retries it within seconds.
      stopsAt === undefined ? {} : { startBy: stopsAt - needsMs, stopsAt },
    );
    // Lambda freezes the function once it returns: the spend counted, the traffic's minutes and the alerts posted
    // after the answers (a budget crossed) are waited for, or they land at a later invocation, or never. Not past
    // AFTER_ANSWERS_MARGIN_MS before the timeout: what is still under way then goes on at a later invocation.
    const settled = bot.afterAnswers().catch(() => undefined);
    await (stopsAt === undefined ? settled : orAfter(settled, stopsAt - AFTER_ANSWERS_MARGIN_MS - Date.now(), undefined));
    return { batchItemFailures: left.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

/** Room left before the function's timeout once the work after the answers has been waited for (a timeout would re-run the batch). */
const AFTER_ANSWERS_MARGIN_MS = 3000;
