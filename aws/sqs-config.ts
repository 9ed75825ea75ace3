/**
 * The SQS queue from parley's configuration: what the CLI and the Lambda examples build when
 * SQS_QUEUE_URL is set (the core never imports parley/aws).
 */
import type { Config, JobData } from '../src/index.js';
import { SqsQueue, type SqsQueueOptions } from './sqs-queue.js';
import { sqsSdk } from './sqs-sdk.js';

/** The longest wait between two tries of a job, as the Redis and in-memory queues have it. */
const MAX_BACKOFF_MS = 5 * 60_000;

/** An SqsQueue on SQS_QUEUE_URL with JOB_ATTEMPTS and JOB_BACKOFF_MS; undefined when SQS_QUEUE_URL is not set. */
export function sqsQueueFromConfig(config: Config, options: Partial<SqsQueueOptions> = {}): SqsQueue<JobData> | undefined {
  if (!config.sqsQueueUrl) return undefined;
  // The SDK is checked now, as the other SDKs a setting needs are: a deploy without it stops at
  // start-up with `npm install @aws-sdk/client-sqs`, instead of answering 503 to every message.
  sqsSdk('the SQS queue (SQS_QUEUE_URL)');
  return new SqsQueue<JobData>({
    queueUrl: config.sqsQueueUrl,
    retry: { attempts: config.queue.attempts, backoffMs: config.queue.backoffMs, maxBackoffMs: MAX_BACKOFF_MS },
    ...options,
  });
}
