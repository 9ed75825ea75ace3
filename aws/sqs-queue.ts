/**
 * The job queue on an SQS FIFO queue: MessageGroupId = the job's group (a conversation: SQS keeps
 * its messages in order and hands out one group's messages to one consumer at a time),
 * MessageDeduplicationId = the job id (the platform's delivery id: SQS drops a repeat within
 * 5 minutes). Its redrive queue holds the dead letters; set its maxReceiveCount high, since
 * parley counts attempts itself (see sqs-batch.ts) and moves a job there when they run out.
 *
 * Two ways to work: on Lambda, the SQS event source receives and `sqsWorker(bot)` runs each batch
 * (`drivenByLambda()`); elsewhere (`parley worker`), `process()` long-polls the queue.
 */
import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { ConfigError, MemoryStore, type DeadLetter, type Forgotten, type JobHandler, type JobQueue, type NewJob, type ProcessOptions, type QueueCounts, type RetryOptions, type Store } from '../src/index.js';
import { runBatch, type BatchContext, type SqsMessage } from './sqs-batch.js';
import { SqsDeadLetters } from './sqs-dead-letters.js';
import { holdMessage } from './sqs-lease.js';
import { pollQueue } from './sqs-poll.js';
import { encodeEnvelope, fifoId } from './sqs-ids.js';
import { sizeLimitNamedBy } from './sqs-letter-size.js';
import { cutEnvelope } from './sqs-oversized.js';
import { ACK_CALL_MS, within } from './deadlines.js';
import { createSqsClient, sqsSdk, type SqsSdk } from './sqs-sdk.js';
import { unsharedStoreWarning } from './sqs-shared-store.js';

export interface SqsQueueOptions {
  /** The FIFO queue's URL (SQS_QUEUE_URL). */
  queueUrl: string;
  retry: RetryOptions;
  /** Default: a client configured from the environment (region, credentials, AWS_ENDPOINT_URL_SQS), with per-attempt deadlines. */
  client?: SQSClient;
  /** Default: the queue's redrive target, looked up once. */
  deadLetterQueueUrl?: string;
  /** Polling: how long a received message stays hidden, renewed while its job runs (default 60 s). */
  visibilityTimeoutSeconds?: number;
  /** Polling: the long-poll wait (default 20 s, SQS's most). */
  waitTimeSeconds?: number;
  /** Each dead-letter listing receive's wait (default 1 s). */
  peekWaitSeconds?: number;
  /**
   * Where the workers count attempts, read for the dead letters SQS redrove itself (default: this
   * process's worker's store). Without it such a letter is listed without attempts.
   */
  attemptsStore?: Store;
  logger?: Logger;
}

export class SqsQueue<T> implements JobQueue<T> {
  private opened?: { client: SQSClient; sdk: SqsSdk };
  private deadLetterUrl?: Promise<string>;
  private readonly deadLetters_: SqsDeadLetters<T>;
  private worker?: { handler: JobHandler<T>; store: Store; concurrency: number; options: ProcessOptions<T> };
  private lambda = false;
  private polling?: AbortController;
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly options: SqsQueueOptions) {
    this.deadLetters_ = new SqsDeadLetters<T>(() => this.aws, () => this.deadLetterQueueUrl(), () => options.attemptsStore ?? this.worker?.store, options.peekWaitSeconds);
  }

  /** The SDK and client, loaded on first use: constructing a queue does no I/O and needs no SDK. */
  private get aws(): { client: SQSClient; sdk: SqsSdk } {
    if (this.opened) return this.opened;
    const neededBy = 'the SQS queue (SQS_QUEUE_URL)';
    this.opened = { sdk: sqsSdk(neededBy), client: this.options.client ?? createSqsClient({}, neededBy) };
    return this.opened;
  }

  async add(job: NewJob<T>): Promise<boolean> {
    // The ack path: a stuck SendMessage must fail in time for ingress to release the claim and answer 503.
    await this.send(job, job.id, within(ACK_CALL_MS, `SQS SendMessage to ${this.options.queueUrl}`));
    // SQS drops a repeat of the same id within 5 minutes without saying so; ingest has deduped already.
    return true;
  }

  /** Lambda receives for this queue: process() registers the handler but never polls. */
  drivenByLambda(): void {
    this.lambda = true;
    this.polling?.abort();
  }

  process(handler: JobHandler<T>, options: ProcessOptions<T>): void {
    this.worker = { handler, store: options.store ?? new MemoryStore(), concurrency: Math.max(1, options.concurrency), options };
    if (this.lambda || this.polling) return;
    // Lambda's handlers (lambdaHandler, sqsWorker) say so themselves
    const unshared = unsharedStoreWarning(this.worker.store);
    if (unshared) (options.logger ?? this.options.logger)?.warn(unshared);
    this.polling = new AbortController();
    // SQS hands out at most 10 messages a receive; enough pollers to fill the concurrency.
    for (let i = 0; i < Math.ceil(this.worker.concurrency / 10); i++) this.track(this.poll(this.polling.signal));
  }

  /**
   * Run one batch (a Lambda event's records); returns the ids of the messages left in the queue.
   * `startBy`: no message starts after this time (epoch ms); the rest are left for the next batch.
   * `stopsAt`: when the function's timeout stops it (epoch ms); the messages it still has are given back just before.
   */
  async runBatch(messages: readonly SqsMessage[], options: { startBy?: number; stopsAt?: number } = {}): Promise<string[]> {
    if (!this.worker) throw new ConfigError("this bot's worker is off (createBot({ worker: false })): an SQS worker function needs it on");
    return this.track(runBatch(messages, { ...this.batchContext(this.worker, undefined, options.stopsAt), startBy: options.startBy }));
  }

  async deadLetters(): Promise<DeadLetter<T>[]> {
    return this.deadLetters_.list();
  }

  async addDeadLetter(letter: DeadLetter<T>): Promise<void> {
    await this.deadLetters_.add(letter);
  }

  /**
   * Back into the queue with a new deduplication id (so SQS's 5-minute window cannot drop it) and
   * fresh attempts. A letter cut to fit SQS is refused (it stays): only the start of its message is left.
   */
  async replay(id: string): Promise<boolean> {
    const taken = await this.deadLetters_.take(id, async (letter) => {
      const cutFor = letter.reason === 'too_large' ? 'its queue (larger than its MaximumMessageSize)' : "SQS's 1 MiB";
      if (letter.truncated) throw new Error(`the dead letter ${id} was cut to fit ${cutFor}, so it holds only the start of its message and cannot be replayed: read it with parley dlq show, drop it with parley dlq drop`);
      await this.send(letter, `${letter.id}.replay-${randomUUID().slice(0, 8)}`);
    });
    return taken !== undefined;
  }

  /** Every dead letter back into the queue, oldest first, from one listing of the redrive queue; those cut to fit stay. */
  async replayAll(keep: (letter: DeadLetter<T>) => boolean = () => true): Promise<number> {
    return this.deadLetters_.takeAll((letter) => this.send(letter, `${letter.id}.replay-${randomUUID().slice(0, 8)}`), (letter) => !letter.truncated && keep(letter));
  }

  /** A deleted conversation's dead letters go with it; answered jobs are not kept on SQS (deleted once done). */
  async forget(ids: string[]): Promise<Forgotten> {
    if (ids.length === 0) return { removed: 0, unfinished: 0 };
    return { removed: await this.deadLetters_.forget(new Set(ids)), unfinished: 0 };
  }

  /** Deleted from the redrive queue, not sent again; the letters received while looking for it are given back. */
  async dropDeadLetter(id: string): Promise<boolean> {
    return this.deadLetters_.drop(id);
  }

  async purge(): Promise<number> {
    return this.deadLetters_.purge();
  }

  async counts(): Promise<QueueCounts> {
    const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
    const [main, dead] = await Promise.all([this.attributes(this.options.queueUrl, [...names]), this.deadLetterQueueUrl().then((url) => this.attributes(url, [...names]))]);
    const n = (from: Record<string, string>, name: (typeof names)[number]) => Number(from[name] ?? 0);
    return {
      waiting: n(main, 'ApproximateNumberOfMessages'),
      // In flight: running, or hidden until a retry or a deferral is due.
      active: n(main, 'ApproximateNumberOfMessagesNotVisible'),
      delayed: n(main, 'ApproximateNumberOfMessagesDelayed'),
      dead: n(dead, 'ApproximateNumberOfMessages') + n(dead, 'ApproximateNumberOfMessagesNotVisible'),
    };
  }

  /** The redrive policy's JSON, as SQS returns it (undefined without one): `parley check` reads its maxReceiveCount. */
  async redrivePolicy(): Promise<string | undefined> {
    return (await this.attributes(this.options.queueUrl, ['RedrivePolicy'])).RedrivePolicy;
  }

  async ping(): Promise<void> {
    await this.attributes(this.options.queueUrl, ['QueueArn']);
  }

  async close(deadlineMs: number): Promise<{ unfinished: number }> {
    this.polling?.abort();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
    await Promise.race([Promise.allSettled([...this.running]), deadline]);
    clearTimeout(timer);
    // A job still running is not lost: its message comes back when its visibility timeout ends.
    return { unfinished: this.running.size };
  }

  private async send(job: NewJob<T>, delivery: string, options: { abortSignal?: AbortSignal } = {}): Promise<void> {
    const { client, sdk } = this.aws;
    const dedupe = fifoId(delivery);
    const sendBody = (body: string) => client.send(new sdk.SendMessageCommand({ QueueUrl: this.options.queueUrl, MessageBody: body, MessageGroupId: fifoId(job.group), MessageDeduplicationId: dedupe }), options);
    await sendBody(encodeEnvelope(job, dedupe)).catch(async (error: unknown) => {
      // Refused as too large, it would be refused on every retry: queued cut, so its sender is asked for a shorter one.
      const limit = sizeLimitNamedBy(error);
      const cut = limit === undefined ? undefined : cutEnvelope(job, dedupe, limit);
      if (cut === undefined) throw error;
      (this.worker?.options.logger ?? this.options.logger)?.warn({ job: job.id, maxBytes: limit }, 'a message larger than the SQS queue takes (its MaximumMessageSize) was queued cut: its sender is asked for a shorter one, and it is dead-lettered as too_large');
      await sendBody(cut);
    });
  }

  private async poll(signal: AbortSignal): Promise<void> {
    const worker = this.worker!;
    const visibility = this.options.visibilityTimeoutSeconds ?? 60;
    const context = this.batchContext(worker, visibility);
    const waitSeconds = this.options.waitTimeSeconds ?? 20;
    const log = () => worker.options.logger ?? this.options.logger;
    await pollQueue(signal, { aws: () => this.aws, queueUrl: this.options.queueUrl, concurrency: worker.concurrency, visibility, waitSeconds, log, run: (messages) => this.track(runBatch(messages, context)) });
  }

  private batchContext(worker: NonNullable<SqsQueue<T>['worker']>, visibility: number | undefined, stopsAt?: number): BatchContext<T> {
    // The bot's logger (given to process()); one given to the queue itself serves only outside a worker.
    const log = () => worker.options.logger ?? this.options.logger;
    return {
      handler: worker.handler,
      store: worker.store,
      retry: this.options.retry,
      hide: (message, seconds) => this.changeVisibility(message, seconds),
      bury: async (message, letter, delivery, move) => {
        if (!move.sent) await this.deadLetters_.add(letter, delivery);
        move.sent = true;
        await this.deleteMessage(message);
        // A body that is no parley envelope never reaches the handler (which logs and counts every other bad job): counted
        // here once moved (parley_dead_lettered_total); one error line saying what is wrong; the body only at debug (it may hold anything).
        if (letter.attempts === 0 && letter.reason === 'invalid_job') {
          worker.options.onDeadLettered?.(letter.data, letter.reason);
          log()?.error({ message: message.messageId, reason: letter.reason }, `SQS message dead-lettered without retries (invalid_job): ${letter.error}`);
          (log() as Partial<Logger> | undefined)?.debug?.({ message: message.messageId, body: message.body }, 'the SQS message that is not a parley job');
        }
      },
      // Polling deletes what it answered at once; Lambda deletes the batch's successes itself.
      ...(visibility === undefined ? {} : { finished: (message: SqsMessage) => this.deleteMessage(message) }),
      // Polling renews the visibility; Lambda gives the message back before its timeout (see sqs-lease.ts).
      keepHidden: visibility === undefined && stopsAt === undefined ? undefined : (message) => holdMessage((seconds) => this.changeVisibility(message, seconds), visibility, message.receivedAt, stopsAt),
      onError: (error, message) => log()?.error({ err: error, message: message.messageId }, 'SQS message left for redelivery: the queue could not record its outcome'),
      onLeaseLost: (message) =>
        log()?.warn({ message: message.messageId, visibilityTimeoutSeconds: visibility }, `this worker's hold on the SQS message ran out (${visibility === undefined ? "the function's timeout passed" : 'its visibility could not be renewed in time'}): another worker may have it now, so this one posted nothing more of its answer and left the message to that worker`),
      onCleanupFailed: (error, message, key) =>
        log()?.warn({ err: error, message: message.messageId, key }, 'SQS message done, but its attempts count could not be deleted: it expires by itself within 14 days'),
      onAbandoned: async (job, reason) => worker.options.onAbandoned?.(job, reason).catch((error: unknown) => log()?.warn({ err: error }, 'could not report a job the queue gave up on')),
    };
  }

  private async changeVisibility(message: SqsMessage, seconds: number): Promise<void> {
    const { client, sdk } = this.aws;
    await client.send(new sdk.ChangeMessageVisibilityCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.receiptHandle, VisibilityTimeout: seconds }));
  }

  private async deleteMessage(message: SqsMessage): Promise<void> {
    const { client, sdk } = this.aws;
    await client.send(new sdk.DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.receiptHandle }));
  }

  private async attributes(url: string, names: string[]): Promise<Record<string, string>> {
    const { client, sdk } = this.aws;
    const { Attributes = {} } = await client.send(new sdk.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names as never }));
    return Attributes;
  }

  /** The redrive queue's URL, from the queue's RedrivePolicy (looked up once). */
  private deadLetterQueueUrl(): Promise<string> {
    if (this.options.deadLetterQueueUrl) return Promise.resolve(this.options.deadLetterQueueUrl);
    this.deadLetterUrl ??= (async () => {
      const { RedrivePolicy } = await this.attributes(this.options.queueUrl, ['RedrivePolicy']);
      const arn = RedrivePolicy ? (JSON.parse(RedrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn : undefined;
      const [, , , , account, name] = arn?.split(':') ?? [];
      if (!name) throw new ConfigError(`the SQS queue ${this.options.queueUrl} has no redrive policy: parley keeps its dead letters in the redrive queue. Give it one (parley aws setup does), with a high maxReceiveCount`);
      const { client, sdk } = this.aws;
      const { QueueUrl } = await client.send(new sdk.GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }));
      return QueueUrl!;
    })();
    this.deadLetterUrl.catch(() => (this.deadLetterUrl = undefined));
    return this.deadLetterUrl;
  }

  private track<R>(promise: Promise<R>): Promise<R> {
    this.running.add(promise);
    void promise.finally(() => this.running.delete(promise)).catch(() => undefined);
    return promise;
  }
}
