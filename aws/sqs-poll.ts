/**
 * Polling (`parley worker`, not Lambda): one long-poll receive loop of SqsQueue.process(), handing
 * each receive's messages to the queue's batch runner until the signal aborts.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { SqsMessage } from './sqs-batch.js';
import { ATTEMPT_TIMEOUT_MS } from './deadlines.js';
import type { SqsSdk } from './sqs-sdk.js';

export interface PollTarget {
  /** The SDK and client, read on every receive (the queue loads them on first use). */
  aws: () => { client: SQSClient; sdk: SqsSdk };
  queueUrl: string;
  /** The worker's concurrency: a receive asks for at most this many messages (SQS's most is 10). */
  concurrency: number;
  /** How long a received message stays hidden, in seconds. */
  visibility: number;
  /** The long-poll wait, in seconds. */
  waitSeconds: number;
  log: () => Pick<Logger, 'warn'> | undefined;
  /** Runs one receive's messages (runBatch with the queue's batch context), tracked by the queue. */
  run: (messages: SqsMessage[]) => Promise<unknown>;
}

export async function pollQueue(signal: AbortSignal, { aws, queueUrl, concurrency, visibility, waitSeconds, log, run }: PollTarget): Promise<void> {
  // Logged once per change of state, as Redis's connection trouble is: not once a second through an outage.
  let failing = false;
  while (!signal.aborted) {
    try {
      const { client, sdk } = aws();
      const { Messages = [] } = await client.send(
        new sdk.ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, concurrency),
          WaitTimeSeconds: waitSeconds,
          VisibilityTimeout: visibility,
          MessageSystemAttributeNames: ['MessageGroupId', 'ApproximateReceiveCount'],
        }),
        // A long poll answers after up to waitSeconds: its attempt's deadline is longer than that.
        { abortSignal: signal, requestTimeout: waitSeconds * 1000 + ATTEMPT_TIMEOUT_MS },
      );
      if (failing) (log() as Partial<Logger> | undefined)?.info?.('SQS receive works again');
      failing = false;
      // Each answered message is deleted as soon as it is (context.finished); the rest stay.
      const receivedAt = Date.now();
      await run(Messages.flatMap((message) => fromReceived(message, receivedAt)));
    } catch (error) {
      if (signal.aborted) return;
      if (!failing) log()?.warn({ err: error }, 'SQS receive failed; trying again every second (logged again once it works)');
      failing = true;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

function fromReceived(message: Message, receivedAt: number): SqsMessage[] {
  if (!message.MessageId || !message.ReceiptHandle) return [];
  return [{ messageId: message.MessageId, receiptHandle: message.ReceiptHandle, body: message.Body ?? '', groupId: message.Attributes?.MessageGroupId, receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1), receivedAt }];
}
