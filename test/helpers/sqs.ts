/**
 * SQS on the moto server, for the tests: fresh queue pairs, and a stand-in for Lambda's SQS event
 * source that receives a batch, builds the event as Lambda does, invokes the handler and deletes
 * the messages the handler did not report as failures.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { createSqsQueues } from '../../aws/index.js';
import type { SqsBatchResponse, SqsEvent, SqsRecord } from '../../aws/index.js';

let made = 0;

/** A new FIFO queue and its redrive queue, with a name no other test uses. */
export async function freshQueues(client: SQSClient, visibilityTimeoutSeconds = 30): Promise<{ queueUrl: string; deadLetterQueueUrl: string }> {
  return createSqsQueues(client, { name: `parley-test-${process.pid}-${++made}`, visibilityTimeoutSeconds });
}

/** Receive what is visible now (one batch, as Lambda's poller would), with the attributes Lambda passes. */
export async function receive(client: SQSClient, queueUrl: string, max = 10): Promise<Message[]> {
  const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: max, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }));
  return Messages;
}

/** An SQS event as Lambda builds it from received messages. */
export function sqsEvent(messages: Message[], queueArn = 'arn:aws:sqs:us-east-1:123456789012:parley.fifo'): SqsEvent {
  return {
    Records: messages.map(
      (m): SqsRecord => ({
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body ?? '',
        attributes: { ...m.Attributes },
        messageAttributes: {},
        md5OfBody: m.MD5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: 'us-east-1',
      }),
    ),
  };
}

/**
 * One poll of Lambda's event source: receive a batch, invoke, delete what succeeded. Returns the
 * handler's answer and how many records it got (0: nothing was visible, the handler not invoked).
 */
export async function pollOnce(client: SQSClient, queueUrl: string, handler: (event: SqsEvent) => Promise<SqsBatchResponse>): Promise<{ records: number; failures: string[] }> {
  const messages = await receive(client, queueUrl);
  if (messages.length === 0) return { records: 0, failures: [] };
  const { batchItemFailures } = await handler(sqsEvent(messages));
  const failures = batchItemFailures.map((f) => f.itemIdentifier);
  const done = messages.filter((m) => !failures.includes(m.MessageId!));
  if (done.length > 0) await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  return { records: messages.length, failures };
}
