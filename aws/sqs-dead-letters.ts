/**
 * The dead letters of the SQS queue: its redrive queue (a FIFO queue too). Each dead letter is
 * sent in a message group of its own, so a listing sees every one: a FIFO queue hides the rest of
 * a group while one of its messages is out.
 *
 * SQS has no "peek": listing receives every message with a short visibility timeout and then
 * makes them visible again at once. So a letter's ApproximateReceiveCount grows with every look,
 * and is never shown as its attempts.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { oldestFirst, type DeadLetter, type Store } from '../src/index.js';
import { attemptsKey, attemptsOf } from './sqs-batch.js';
import { decodeEnvelope, fifoId } from './sqs-ids.js';
import { deadLetterBody, sizeLimitNamedBy } from './sqs-letter-size.js';
import type { SqsSdk } from './sqs-sdk.js';

interface Peeked<T> {
  letter: DeadLetter<T>;
  receiptHandle: string;
}

/** How long a listing holds the dead letters out of sight at most (it gives them back at once). */
const PEEK_SECONDS = 30;

export class SqsDeadLetters<T> {
  constructor(
    private readonly aws: () => { client: SQSClient; sdk: SqsSdk },
    private readonly queueUrl: () => Promise<string>,
    /** Where the worker counts attempts (sqs-batch.ts): a letter SQS redrove itself is told its count from there. */
    private readonly attemptsStore: () => Store | undefined,
    /** Long poll of each listing receive: 1 s makes SQS ask all its servers, so an empty answer means empty. */
    private readonly peekWaitSeconds = 1,
  ) {}

  /**
   * Send a dead letter; `dedupe` keeps a move repeated within 5 minutes (a crash in between) from
   * doubling it. One over SQS's 1 MiB is cut to fit (`truncated`), so a poison message leaves the
   * queue; so is one a redrive queue made with a smaller MaximumMessageSize refuses, to the size it names.
   */
  async add(letter: DeadLetter<T>, dedupe = `${letter.id}.${letter.failedAt}`): Promise<void> {
    const { client, sdk } = this.aws();
    const QueueUrl = await this.queueUrl();
    const send = (MessageBody: string) =>
      client.send(new sdk.SendMessageCommand({ QueueUrl, MessageBody, MessageGroupId: fifoId(`dead.${dedupe}`), MessageDeduplicationId: fifoId(`dead.${dedupe}`) }));
    await send(deadLetterBody(letter)).catch((error: unknown) => {
      const limit = sizeLimitNamedBy(error);
      if (limit === undefined) throw error;
      return send(deadLetterBody(letter, limit));
    });
  }

  async list(): Promise<DeadLetter<T>[]> {
    const peeked = await this.peek();
    await this.giveBack(peeked);
    return oldestFirst(peeked.map((p) => p.letter));
  }

  /** Take the dead letter `id` out (or undefined), after `use` succeeded with it; the others are given back. */
  async take(id: string, use: (letter: DeadLetter<T>) => Promise<void>): Promise<DeadLetter<T> | undefined> {
    const peeked = await this.peek();
    const found = peeked.find((p) => p.letter.id === id);
    let used = false;
    try {
      if (!found) return undefined;
      await use(found.letter);
      used = true;
      await this.remove([found]);
      return found.letter;
    } finally {
      // A letter `use` refused (or failed on) is listed again at once; one it used is not, though its removal failed.
      await this.giveBack(peeked.filter((p) => !(used && p === found)));
    }
  }

  /** Take every dead letter `keep` wants out, oldest first, each after `use` succeeded with it: one listing for all. */
  async takeAll(use: (letter: DeadLetter<T>) => Promise<void>, keep: (letter: DeadLetter<T>) => boolean = () => true): Promise<number> {
    const peeked = await this.peek();
    const order = new Map(oldestFirst(peeked.map((p) => p.letter)).map((letter, i) => [letter, i]));
    const taken: Peeked<T>[] = [];
    try {
      for (const each of [...peeked].sort((a, b) => order.get(a.letter)! - order.get(b.letter)!)) {
        if (!keep(each.letter)) continue;
        await use(each.letter);
        // Removed as it goes: a replay cut short (a timeout) must not replay the same letters again.
        await this.remove([each]);
        taken.push(each);
      }
    } finally {
      await this.giveBack(peeked.filter((p) => !taken.includes(p)));
    }
    return taken.length;
  }

  /** Remove the dead letters of these job ids (a deleted conversation's messages); the others are given back. */
  async forget(ids: ReadonlySet<string>): Promise<number> {
    const peeked = await this.peek();
    const gone = peeked.filter((p) => ids.has(p.letter.id));
    try {
      await this.remove(gone);
    } finally {
      await this.giveBack(peeked.filter((p) => !gone.includes(p)));
    }
    return gone.length;
  }

  /** Remove the dead letter `id` without replaying it (found as `take` finds it); the others are given back. */
  async drop(id: string): Promise<boolean> {
    return (await this.take(id, async () => undefined)) !== undefined;
  }

  async purge(): Promise<number> {
    const peeked = await this.peek();
    await this.remove(peeked);
    return peeked.length;
  }

  private async peek(): Promise<Peeked<T>[]> {
    const { client, sdk } = this.aws();
    const QueueUrl = await this.queueUrl();
    const seen = new Map<string, Peeked<T>>();
    while (true) {
      const { Messages = [] } = await client.send(
        new sdk.ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: PEEK_SECONDS, WaitTimeSeconds: this.peekWaitSeconds, MessageSystemAttributeNames: ['All'] }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) {
        if (!message.MessageId || !message.ReceiptHandle) continue;
        seen.set(message.MessageId, { letter: await asDeadLetter<T>(message.Body, message.Attributes ?? {}, this.attemptsStore()), receiptHandle: message.ReceiptHandle });
      }
    }
    return [...seen.values()];
  }

  private async giveBack(peeked: Peeked<T>[]): Promise<void> {
    const { client, sdk } = this.aws();
    const QueueUrl = await this.queueUrl();
    for (const chunk of chunks(peeked)) {
      const Entries = chunk.map((p, i) => ({ Id: String(i), ReceiptHandle: p.receiptHandle, VisibilityTimeout: 0 }));
      await client.send(new sdk.ChangeMessageVisibilityBatchCommand({ QueueUrl, Entries }));
    }
  }

  private async remove(peeked: Peeked<T>[]): Promise<void> {
    const { client, sdk } = this.aws();
    const QueueUrl = await this.queueUrl();
    for (const chunk of chunks(peeked)) {
      const Entries = chunk.map((p, i) => ({ Id: String(i), ReceiptHandle: p.receiptHandle }));
      const result = await client.send(new sdk.DeleteMessageBatchCommand({ QueueUrl, Entries }));
      if (result.Failed?.length) throw new Error(`could not delete ${result.Failed.length} dead letters: ${result.Failed[0]?.Message ?? result.Failed[0]?.Code}`);
    }
  }
}

/**
 * A dead letter as parley wrote it, or a job SQS moved there itself (received maxReceiveCount
 * times without a verdict: the worker kept dying before parley could count it). Such a letter's
 * attempts are the ones the worker counted in the store, when it is at hand; else none are given.
 */
async function asDeadLetter<T>(body: string | undefined, attributes: Record<string, string>, attemptsStore: Store | undefined): Promise<DeadLetter<T>> {
  const parsed = parse(body) as Partial<DeadLetter<T>> | undefined;
  if (parsed && typeof parsed.id === 'string' && typeof parsed.error === 'string') return parsed as DeadLetter<T>;
  const envelope = decodeEnvelope<T>(body);
  const failedAt = new Date(Number(attributes.SentTimestamp ?? Date.now())).toISOString();
  if (envelope) {
    const counted = attemptsOf(await attemptsStore?.get(attemptsKey(envelope.delivery)));
    const attempts = Number.isInteger(counted) && counted > 0 ? { attempts: counted } : {};
    // A message queued cut (larger than the queue takes) holds only the start of its text: never replayed.
    return { id: envelope.id, group: envelope.group, data: envelope.data, error: 'received maxReceiveCount times without a verdict', reason: 'redriven', ...attempts, failedAt, ...(envelope.cut ? { truncated: true } : {}) };
  }
  return { id: attributes.MessageDeduplicationId ?? 'unknown', group: 'none', data: body as T, error: 'the message is not a parley job', reason: 'invalid_job', failedAt };
}

function parse(body: string | undefined): unknown {
  try {
    return JSON.parse(body ?? '');
  } catch {
    return undefined;
  }
}

function chunks<T>(items: T[], size = 10): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
