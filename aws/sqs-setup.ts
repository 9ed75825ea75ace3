/**
 * Creating the SQS queues parley needs: a FIFO queue and its FIFO redrive queue (the dead
 * letters). For local emulators, tests and a first deploy without infrastructure as code;
 * examples/aws/serverless.yml declares the same.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sqsSdk } from './sqs-sdk.js';

/**
 * The least redrive maxReceiveCount parley needs, and what setup sets. Every deferral (a rate
 * limit's Retry-After, an open circuit) is one more receive, about one a second for up to
 * AI_MAX_WAIT_MS (10 minutes): a lower count lets SQS dead-letter a message parley never gave up,
 * with no apology.
 */
export const MIN_MAX_RECEIVE_COUNT = 1000;

/** The queue's name: the last part of its URL (…/123456789012/parley.fifo). */
export function queueName(queueUrl: string): string {
  return new URL(queueUrl).pathname.split('/').filter(Boolean).pop() ?? '';
}

/**
 * Why SQS_QUEUE_URL cannot be parley's queue, if it cannot: parley's queue is FIFO (each
 * conversation's messages in order), and a FIFO queue's name ends in .fifo. `parley aws setup`
 * refuses it, and `parley check` fails on it.
 */
export function fifoQueueProblem(queueUrl: string): string | undefined {
  const name = queueName(queueUrl);
  return name.endsWith('.fifo') ? undefined : `SQS_QUEUE_URL names "${name}", which is not a FIFO queue: parley needs one (its name ends in .fifo). Fix: set SQS_QUEUE_URL to …/${name}.fifo`;
}

/** A warning when a queue's redrive policy (its JSON) lets SQS dead-letter messages parley is still working on. */
export function receiveCountWarning(redrivePolicy: string | undefined, queueUrl: string): string | undefined {
  if (!redrivePolicy) return undefined;
  let count: number;
  try {
    count = Number((JSON.parse(redrivePolicy) as { maxReceiveCount?: unknown }).maxReceiveCount);
  } catch {
    return undefined; // not parley's to judge: SQS accepted it
  }
  if (!Number.isFinite(count) || count >= MIN_MAX_RECEIVE_COUNT) return undefined;
  return (
    `its redrive maxReceiveCount is ${count}, below the ${MIN_MAX_RECEIVE_COUNT} parley needs: every deferral (a rate limit, an open circuit) is one more receive, so SQS would dead-letter messages parley is still waiting on, with no apology. ` +
    `Fix: set maxReceiveCount to ${MIN_MAX_RECEIVE_COUNT} in the redrive policy where the queue is defined (serverless.yml, CloudFormation, Terraform), or with aws sqs set-queue-attributes --queue-url ${queueUrl} (RedrivePolicy)`
  );
}

export interface SqsQueuesOptions {
  /** The queue's name; `.fifo` is added when missing, and `-dlq.fifo` names its dead letters (unless a redrive policy it has names others). */
  name: string;
  /** Default 900 s: at least the worker function's timeout, as Lambda requires. */
  visibilityTimeoutSeconds?: number;
  /**
   * Receives before SQS itself moves a message to the dead letters. High (default 1000): parley
   * counts attempts and dead-letters itself; this only catches a message no worker survives.
   */
  maxReceiveCount?: number;
}

export interface SqsQueues {
  queueUrl: string;
  deadLetterQueueUrl: string;
  /** What was changed on a queue that was already there (e.g. its redrive policy added). */
  changed?: string;
  /** What differs on a queue that was already there and is left as it is. */
  differs?: string;
  /** What on a queue that was already there will hurt parley (a low maxReceiveCount), with the fix. */
  warning?: string;
}

/**
 * Create (or find: CreateQueue is idempotent for equal attributes) the queue and its redrive
 * queue. A queue made elsewhere with other attributes is kept as it is, except that one without a
 * redrive policy is given one: parley keeps its dead letters there. One whose redrive policy
 * already names another queue keeps it, and no `-dlq.fifo` is made: its dead letters are there.
 */
export async function createSqsQueues(client: SQSClient, options: SqsQueuesOptions): Promise<SqsQueues> {
  const sdk = sqsSdk('createSqsQueues()');
  const base = options.name.replace(/\.fifo$/, '');
  const own = await redriveElsewhere(client, `${base}.fifo`, `${base}-dlq.fifo`);
  if (own) return own;
  const fifo = { FifoQueue: 'true', MessageRetentionPeriod: String(14 * 24 * 3600) };
  const deadLetterQueueUrl = (await createOrFind(client, `${base}-dlq.fifo`, fifo)).url;
  const { Attributes } = await client.send(new sdk.GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }));
  const redrive = JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount: options.maxReceiveCount ?? MIN_MAX_RECEIVE_COUNT });
  const main = await createOrFind(client, `${base}.fifo`, { ...fifo, VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 900), RedrivePolicy: redrive });
  if (!main.otherAttributes) return { queueUrl: main.url, deadLetterQueueUrl };
  const existing = (await client.send(new sdk.GetQueueAttributesCommand({ QueueUrl: main.url, AttributeNames: ['RedrivePolicy'] }))).Attributes ?? {};
  if (!existing.RedrivePolicy) {
    await client.send(new sdk.SetQueueAttributesCommand({ QueueUrl: main.url, Attributes: { RedrivePolicy: redrive } }));
    return { queueUrl: main.url, deadLetterQueueUrl, changed: 'redrive policy added (its other attributes left as they are)' };
  }
  const warning = receiveCountWarning(existing.RedrivePolicy, main.url);
  return { queueUrl: main.url, deadLetterQueueUrl, differs: 'its own attributes are left as they are', ...(warning ? { warning } : {}) };
}

/**
 * The queue as it is, when it exists with a redrive policy naming a queue other than `dlqName`
 * (made elsewhere, e.g. low.fifo → lowdlq.fifo): nothing is created, and its dead-letter queue
 * is the one reported, the one `parley dlq` reads.
 */
async function redriveElsewhere(client: SQSClient, name: string, dlqName: string): Promise<SqsQueues | undefined> {
  const sdk = sqsSdk('createSqsQueues()');
  let queueUrl: string;
  try {
    queueUrl = (await client.send(new sdk.GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
  } catch (error) {
    if (error instanceof sdk.QueueDoesNotExist) return undefined;
    throw error;
  }
  const { QueueArn = '', RedrivePolicy } = (await client.send(new sdk.GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn', 'RedrivePolicy'] }))).Attributes ?? {};
  const target = RedrivePolicy ? (JSON.parse(RedrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn : undefined;
  // arn:aws:sqs:<region>:<account>:<name>; the default dead-letter queue's ARN is the queue's own with its name.
  const [, , , , account, dlq] = target?.split(':') ?? [];
  if (!target || !dlq || target === `${QueueArn.slice(0, QueueArn.lastIndexOf(':') + 1)}${dlqName}`) return undefined;
  let deadLetterQueueUrl: string;
  try {
    deadLetterQueueUrl = (await client.send(new sdk.GetQueueUrlCommand({ QueueName: dlq, QueueOwnerAWSAccountId: account }))).QueueUrl!;
  } catch (error) {
    if (!(error instanceof sdk.QueueDoesNotExist)) throw error;
    throw new Error(`the redrive policy of ${name} sends its dead letters to ${dlq}, which does not exist: parley keeps its dead letters there. Fix: create ${dlq} (a FIFO queue), or point the redrive policy at a queue that exists`);
  }
  const warning = receiveCountWarning(RedrivePolicy, queueUrl);
  return { queueUrl, deadLetterQueueUrl, differs: `its redrive policy is left as it is: parley reads its dead letters in ${dlq}`, ...(warning ? { warning } : {}) };
}

/** CreateQueue, or the URL of the queue of that name when it exists with other attributes. */
async function createOrFind(client: SQSClient, name: string, attributes: Record<string, string>): Promise<{ url: string; otherAttributes: boolean }> {
  const sdk = sqsSdk('createSqsQueues()');
  try {
    return { url: (await client.send(new sdk.CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!, otherAttributes: false };
  } catch (error) {
    if (!(error instanceof sdk.QueueNameExists)) throw error;
    return { url: (await client.send(new sdk.GetQueueUrlCommand({ QueueName: name }))).QueueUrl!, otherAttributes: true };
  }
}
