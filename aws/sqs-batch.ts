/**
 * Running a batch of SQS messages, the same way whether Lambda delivered it or `parley worker`
 * received it: the groups (conversations) in parallel, each group's messages in order.
 *
 * Semantics, per message:
 * - attempts are counted in the store, under the message's delivery id, *before* the job runs,
 *   so a message that kills its worker (a crash, a Lambda timeout) still runs out of attempts;
 * - a deferral (RetryAfterError: a rate limit, an AI_MAX_WAIT_MS wait) gives its attempt back and
 *   hides the message for as long as asked (ChangeMessageVisibility: FIFO queues have no
 *   per-message delay), so deferrals never dead-letter anything;
 * - any other failure hides it for the backoff (exponential with jitter), until JOB_ATTEMPTS;
 * - a PermanentError, or the last attempt failing, moves it to the dead letters (sent to the
 *   redrive queue, deleted here) at once; if that move fails, the verdict is kept under the
 *   attempts key and the next delivery makes the move without running the job again (only the
 *   delete, when the letter was sent: no second letter once SQS's 5-minute dedupe has passed);
 * - polling: a message whose visibility could not be renewed before it ran out (sqs-lease.ts) may
 *   be another worker's now: its run posts nothing more (LeaseLostError) and records no outcome, and
 *   one lost while waiting behind its conversation's earlier messages is not started;
 * - Lambda: shortly before the function's timeout (`stopsAt`), every message of the batch it still
 *   has (running, waiting behind its conversation's earlier ones, or answered but deleted by Lambda
 *   only once the function returns) is given back by its lease (sqs-lease.ts): visible again a few
 *   seconds after the timeout, not after the queue's visibility timeout. On a FIFO queue a hidden
 *   message holds back its whole group, so the answered ones go back too; their rerun finds the
 *   reply's sent marker and posts nothing, and the cut-off one's run counted its attempt already;
 * - a message left in the queue holds back the later messages of its group in the same batch:
 *   they are not run, and given back at once; SQS hands out none of a group while one of its
 *   messages is hidden, so none overtakes it.
 */
import { LeaseLostError, PermanentError, RetryAfterError, errorText, retryDelayMs, type DeadLetter, type Job, type JobHandler, type RetryOptions, type Store } from '../src/index.js';
import { decodeEnvelope, envelopeProblem } from './sqs-ids.js';
import type { Lease } from './sqs-lease.js';
import { TOO_LARGE } from './sqs-oversized.js';

/** A received message, from ReceiveMessage or from a Lambda SQS event record. */
export interface SqsMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  groupId?: string;
  /** SQS's ApproximateReceiveCount: above 1, an earlier receive may have answered it (its delete lost). */
  receiveCount?: number;
  /** When its receive answered (epoch ms; polling): its visibility timeout runs from then. */
  receivedAt?: number;
}

export interface BatchContext<T> {
  handler: JobHandler<T>;
  store: Store;
  retry: RetryOptions;
  /** Keep a message hidden `seconds` more: it comes back then. */
  hide(message: SqsMessage, seconds: number): Promise<void>;
  /**
   * Move a message to the dead letters: sent there, deleted here. `delivery` dedupes a repeated move
   * (within SQS's 5 minutes); `move.sent`: the letter is sent already (by an earlier delivery), set once it is.
   */
  bury(message: SqsMessage, letter: DeadLetter<T>, delivery: string, move: { sent: boolean }): Promise<void>;
  /** Keep a message hidden while this worker has it (polling), or give it back before the function's timeout (Lambda): the lease says whether it still holds it. */
  keepHidden?(message: SqsMessage): Lease;
  /** A message answered (polling: deleted now, not when the slowest of its batch is done; Lambda deletes its own). */
  finished?(message: SqsMessage): Promise<void>;
  onError(error: unknown, message: SqsMessage): void;
  /** The message's visibility ran out before its run ended (renewals failing): another worker may have it; this one left it. */
  onLeaseLost?(message: SqsMessage): void;
  /** A message's outcome is recorded but its attempts count could not be deleted: it expires by itself (ATTEMPTS_TTL_MS). */
  onCleanupFailed?(error: unknown, message: SqsMessage, key: string): void;
  /** Epoch ms after which no message of the batch starts (a Lambda's time running out): the rest stay queued. */
  startBy?: number;
  /** Told of a message given up without its handler seeing the failure (the worker died every time): the user's apology. */
  onAbandoned?(job: Job<T>, reason: string): Promise<void>;
}

/** Finished (answered, or dead-lettered and so already deleted), or left in the queue. */
type Outcome = { done: boolean; answered?: boolean };

/** How soon a message whose outcome could not be recorded (the store or SQS failing) is tried again. */
const QUEUE_TROUBLE_RETRY_SECONDS = 5;
/** Longest visibility timeout SQS accepts. */
const MAX_HIDDEN_SECONDS = 12 * 60 * 60;
/** An attempts count outlives the message: SQS keeps a message 14 days at most. */
const ATTEMPTS_TTL_MS = 14 * 24 * 60 * 60 * 1000;

export const attemptsKey = (delivery: string) => `parley:sqs-attempts:${delivery}`;

/** A message given up whose move to the dead letters failed: kept under its attempts key until it is moved. */
interface Verdict {
  attempts: number;
  error: string;
  reason: string;
  /** The letter was sent, only the delete failed: a later delivery deletes the message, and sends nothing (past the 5-minute dedupe, a second letter). */
  sent?: boolean;
}

function verdictOf(recorded: string | undefined): Verdict | undefined {
  if (!recorded?.startsWith('{')) return undefined;
  try {
    const verdict = JSON.parse(recorded) as Partial<Verdict>;
    return typeof verdict.error === 'string' && typeof verdict.reason === 'string' ? { attempts: Number(verdict.attempts) || 0, error: verdict.error, reason: verdict.reason, sent: verdict.sent === true } : undefined;
  } catch {
    return undefined;
  }
}

/** The attempts counted under a message's attempts key (a count, or a verdict holding one). */
export function attemptsOf(recorded: string | undefined): number {
  return verdictOf(recorded)?.attempts ?? (Number(recorded ?? 0) || 0);
}

/** Run a batch; returns the ids of the messages that stay in the queue (Lambda's batchItemFailures). */
export async function runBatch<T>(messages: readonly SqsMessage[], context: BatchContext<T>): Promise<string[]> {
  const groups = new Map<string, SqsMessage[]>();
  for (const message of messages) {
    const key = message.groupId ?? message.messageId;
    groups.set(key, [...(groups.get(key) ?? []), message]);
  }
  const left: string[] = [];
  // Every message is kept hidden from the start, a message waiting behind its conversation's earlier
  // ones too: if its visibility ran out meanwhile, another worker could take it while this one is still on it.
  const leases = new Map(messages.map((message) => [message.messageId, context.keepHidden?.(message)]));
  try {
    await Promise.all(
      [...groups.values()].map(async (group) => {
        let blocked = false;
        for (const [index, message] of group.entries()) {
          const lease = leases.get(message.messageId);
          // A later message is not started past startBy: left now it comes back at once, while one cut
          // off by the Lambda's timeout would wait out its visibility. Each conversation's first starts.
          if (blocked || (index > 0 && context.startBy !== undefined && Date.now() > context.startBy)) {
            lease?.stop();
            left.push(message.messageId);
            await context.hide(message, 0).catch((e: unknown) => context.onError(e, message));
            continue;
          }
          const outcome = await runMessage(message, context, lease).catch(async (error: unknown): Promise<Outcome> => {
            lease?.stop();
            // The queue itself failed (the store, SQS): the message comes back in a few seconds, not
            // after the queue's whole visibility timeout (15 minutes for a Lambda worker), or then if this fails too.
            context.onError(error, message);
            await context.hide(message, QUEUE_TROUBLE_RETRY_SECONDS).catch(() => undefined);
            return { done: false };
          });
          // Answered on Lambda: deleted only once the function returns, so given back with the rest should its timeout come first.
          if (!outcome.answered || context.finished) lease?.stop();
          if (!outcome.done) {
            blocked = true;
            left.push(message.messageId);
          } else if (outcome.answered) {
            await context.finished?.(message).catch((e: unknown) => context.onError(e, message));
          }
        }
      }),
    );
  } finally {
    // Whatever ends the batch: no give-back timer of it may fire during a later invocation.
    for (const lease of leases.values()) lease?.stop();
  }
  return left;
}

async function runMessage<T>(message: SqsMessage, context: BatchContext<T>, lease?: Lease): Promise<Outcome> {
  // Lost while it waited behind its conversation's earlier messages: the worker SQS hands it to runs it; this
  // one would ask the AI (and count an attempt) only to be refused the post.
  if (lease?.held() === false) {
    context.onLeaseLost?.(message);
    return { done: false };
  }
  const envelope = decodeEnvelope<T>(message.body);
  const failedAt = () => new Date().toISOString();
  if (!envelope) {
    const error = `the message is not a parley job: ${envelopeProblem(message.body)}`;
    const letter = { id: message.messageId, group: message.groupId ?? 'none', data: message.body as T, error, reason: 'invalid_job', attempts: 0, failedAt: failedAt() };
    await context.bury(message, letter, message.messageId, { sent: false });
    return { done: true };
  }
  const { id, group, data, delivery, cut } = envelope;
  const key = attemptsKey(delivery);
  const recorded = await context.store.get(key);
  const before = attemptsOf(recorded);
  const attempt = before + 1;
  const maxAttempts = context.retry.attempts;
  const verdict = verdictOf(recorded);
  const bury = async (error: string, reason: string, attempts: number): Promise<Outcome> => {
    const move = { sent: verdict?.sent === true };
    await context.bury(message, { id, group, data, error, reason, attempts, failedAt: failedAt(), ...(cut ? { truncated: true } : {}) }, delivery, move).catch(async (failure: unknown) => {
      // The move failed (SQS throttling): the verdict stays with the count, so the next delivery moves
      // it at once, with this error, instead of running the job again or calling it stalled.
      await context.store.set(key, JSON.stringify({ attempts, error, reason, ...(move.sent ? { sent: true } : {}) } satisfies Verdict), ATTEMPTS_TTL_MS).catch(() => undefined);
      throw failure;
    });
    await cleanUp(key, message, context);
    return { done: true };
  };
  if (verdict) return bury(verdict.error, verdict.reason, verdict.attempts);
  if (cut) {
    // Queued cut (larger than the queue takes): answering the start of it would answer another message.
    await context.onAbandoned?.({ id, group, data, attempt: before, maxAttempts }, TOO_LARGE);
    return bury(`the message was ${cut} bytes as a job, more than the SQS queue takes (its MaximumMessageSize): queued cut, and not answered`, TOO_LARGE, before);
  }
  if (attempt > maxAttempts) {
    // No attempt of it ended in the handler, so nothing has told the user yet: before the message
    // is gone (a delivery that fails after this tells again, and the apology is posted once).
    await context.onAbandoned?.({ id, group, data, attempt: before, maxAttempts }, 'stalled');
    return bury('the worker stopped during every attempt (a crash or a timeout)', 'attempts_exhausted', before);
  }
  await context.store.set(key, String(attempt), ATTEMPTS_TTL_MS);
  try {
    await context.handler({ id, group, data, attempt, maxAttempts, ...((message.receiveCount ?? 1) > 1 ? { redelivered: true } : {}), ...(lease ? { stillHeld: lease.held } : {}) });
  } catch (error) {
    lease?.stop();
    if (error instanceof LeaseLostError || lease?.held() === false) {
      // Another worker may be running it now: its outcome (attempts, visibility, dead letter) is that run's to record.
      context.onLeaseLost?.(message);
      return { done: false };
    }
    if (error instanceof RetryAfterError) {
      // "Not now" spends no attempt.
      await (before > 0 ? context.store.set(key, String(before), ATTEMPTS_TTL_MS) : context.store.delete(key, { ackDeadline: false }));
      // As long as asked (the worker bounded it by AI_MAX_WAIT_MS); hide() keeps to SQS's 12 hours.
      return hide(message, error.retryAfterMs, context);
    }
    if (error instanceof PermanentError) return bury(errorText(error), error.reason, attempt);
    if (attempt >= maxAttempts) return bury(errorText(error), 'attempts_exhausted', attempt);
    return hide(message, retryDelayMs(attempt, context.retry, error), context);
  }
  await cleanUp(key, message, context);
  return { done: true, answered: true };
}

/**
 * Delete a finished message's attempts count. Its outcome is recorded already (answered, or
 * dead-lettered): failing here (DynamoDB throttling) must not hand it back to be answered again.
 * Not on an ack path, so the store may take its own retries.
 */
async function cleanUp<T>(key: string, message: SqsMessage, context: BatchContext<T>): Promise<void> {
  await context.store.delete(key, { ackDeadline: false }).catch((error: unknown) => context.onCleanupFailed?.(error, message, key));
}

async function hide<T>(message: SqsMessage, delayMs: number, context: BatchContext<T>): Promise<Outcome> {
  const seconds = Math.min(MAX_HIDDEN_SECONDS, Math.ceil(delayMs / 1000));
  await context.hide(message, seconds);
  return { done: false };
}
