/**
 * Creating the SQS queues parley needs: a FIFO queue and its FIFO redrive queue (the dead
 * letters). For local emulators, tests and a first deploy without infrastructure as code;
 * examples/aws/serverless.yml declares the same.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sqsSdk } from './sqs-sdk.js';

export interface SqsQueuesOptions {
  /** The queue's name; `.fifo` is added when missing, and `-dlq.fifo` names its dead letters. */
  name: string;
  /** Default 900 s: at least the worker function's timeout, as Lambda requires. */
  visibilityTimeoutSeconds?: number;
  /**
   * Receives before SQS itself moves a message to the dead letters. High (default 1000): parley
   * counts attempts and dead-letters itself; this only catches a message no worker survives.
   */
  maxReceiveCount?: number;
}

/** Create (or find: CreateQueue is idempotent for equal attributes) the queue and its redrive queue. */
export async function createSqsQueues(client: SQSClient, options: SqsQueuesOptions): Promise<{ queueUrl: string; deadLetterQueueUrl: string }> {
  const sdk = sqsSdk('createSqsQueues()');
  const base = options.name.replace(/\.fifo$/, '');
  const fifo = { FifoQueue: 'true', MessageRetentionPeriod: String(14 * 24 * 3600) };
  const dead = await client.send(new sdk.CreateQueueCommand({ QueueName: `${base}-dlq.fifo`, Attributes: fifo }));
  const deadLetterQueueUrl = dead.QueueUrl!;
  const { Attributes } = await client.send(new sdk.GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }));
  const redrive = { deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount: options.maxReceiveCount ?? 1000 };
  const main = await client.send(
    new sdk.CreateQueueCommand({
      QueueName: `${base}.fifo`,
      Attributes: { ...fifo, VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 900), RedrivePolicy: JSON.stringify(redrive) },
    }),
  );
  return { queueUrl: main.QueueUrl!, deadLetterQueueUrl };
}
