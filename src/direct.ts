/**
 * Direct mode: answer inside the webhook request (serverless, Twilio TwiML). The reply becomes
 * the HTTP answer when it is ready before the deadline and the adapter can carry it; otherwise
 * the platform gets its usual answer (at once, for one that cannot carry it and must be answered
 * quickly: Slack) and the reply is posted when it is ready.
 */
import { PermanentError, type Adapter, type HttpResponse, type LimitRefusal, type Received } from './adapter.js';
import { apologiseOnce } from './apology.js';
import { withOutcome, type MessageOutcome } from './outcome.js';
import { answerOf, ingestOptionsOf, takeDelivery, type IngestDeps } from './ingest.js';
import { conversationGroup, messageData, messageJobId } from './jobs.js';
import type { InboundMessage, Reply } from './message.js';
import { errorText, isDeferral, type RetryOptions } from './queue/index.js';
import { answerMessage, type WorkerDeps } from './worker.js';
import { retryingSink, Tries } from './retries.js';

export type DirectDeps = IngestDeps &
  WorkerDeps & {
    deadlineMs: number;
    /** The queue's retries (JOB_ATTEMPTS, JOB_BACKOFF_MS): a reply posted after the answer is retried the same way. */
    retry: RetryOptions;
    /**
     * A message that could not be taken (the store down): for a platform that never redelivers,
     * answered another way; absent, the webhook fails and the platform redelivers. At once, even
     * when the store's step timed out and may run after all: here nothing but this request answers
     * a message, so a claim or a count that lands late answers nothing twice.
     */
    untaken?(message: InboundMessage, error: unknown): void;
    /** Count work that outlives the request (an answer, a reply posted instead) as running: shutdown waits for it. */
    track?(work: Promise<unknown>, message?: InboundMessage): Promise<unknown>;
  };

/**
 * Answer every message of a webhook in this request, within the deadline. An adapter that cannot
 * carry the reply in its HTTP answer and must be answered quickly (Slack: `ackWithinMs`) is
 * answered as soon as its messages are taken, and its replies are posted when they are ready
 * (unless the function is frozen once it answers: `afterAckBeforeResponse`). `clientGone` aborts
 * when the client closed the connection before the answer was written: the reply is posted instead.
 * `requestId`: the webhook's X-Request-Id, on each answer's log lines.
 */
export async function respondDirect(deps: DirectDeps, adapter: Adapter, received: Received, clientGone?: AbortSignal, requestId?: string): Promise<HttpResponse> {
  let open = true;
  /** The reply kept for the HTTP answer, and how to post it instead (exactly one of the two happens). */
  let captured: { reply: Reply; post(): Promise<void> } | undefined;
  const canCapture = Boolean(adapter.respondDirect);
  const answers: Promise<void>[] = [];
  const answer = async (message: InboundMessage) => {
    const jobId = messageJobId(message);
    const tries = new Tries(deps.retry);
    // A reply the platform fails for now (a connection error) is posted again, with backoff, without asking the AI again; a wait (a 429, a 5xx) goes to the queue.
    const post = retryingSink(deps, jobId, tries);
    let posted = false;
    // A step after a posted reply that fails for now (Intercom's handoff assignment answering 5xx)
    // is retried by the queue, as in queue mode: its markers keep the reply from going out twice.
    const retryLater = (error: unknown) => isDeferral(error) || (posted && !captured && !(error instanceof PermanentError));
    const failed = (error: unknown) => (retryLater(error) ? waitInQueue(deps, message, error, requestId) : deadLetter(deps, message, error, tries.attempt));
    await answerMessage(deps, message, {
      jobId,
      requestId,
      attempt: 1,
      // No queue puts this conversation's messages in order: they take its lock instead.
      serialize: true,
      // A wait (rate limit, open circuit) is not a failure: the queue holds the message instead.
      isFinalFailure: (error) => !retryLater(error),
      sink: async (conversation, reply, n, onSentBefore) => {
        if (open && canCapture && !captured) captured = { reply, post: () => post(conversation, reply, n, onSentBefore).then(() => undefined, failed) };
        else return post(conversation, reply, n, onSentBefore).then((shown) => ((posted = true), shown));
      },
    }).catch(failed);
  };
  // Taken (claimed, within the limits) first: a store that is down fails the webhook, so the platform redelivers.
  const options = ingestOptionsOf(received);
  let refusal: LimitRefusal | undefined;
  // What became of the messages, for the request line: one taken is answered here, not queued.
  let outcome: MessageOutcome | undefined;
  const taken = Promise.all(
    received.messages.map((message) =>
      takeDelivery(deps, message, options, async () => void answers.push(tracked(deps, answer(message), message)), requestId).then((ingested) => {
        if (ingested.outcome === 'rate_limited') refusal ??= ingested.refusal;
        outcome = withOutcome(outcome, ingested.outcome === 'queued' ? 'answered' : ingested.outcome);
      }).catch((error: unknown) => {
        if (!deps.untaken) throw error;
        deps.untaken(message, error);
        outcome = withOutcome(outcome, 'answered');
      }),
    ),
  );
  // A platform that sends again what it waits too long for (Slack) is answered at once; the replies follow.
  if (!canCapture && adapter.ackWithinMs !== undefined && !received.afterAckBeforeResponse) {
    await taken;
    return answerOf(received, refusal, outcome);
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deps.deadlineMs)));
  const waiting = new AbortController();
  // A client that hung up (Twilio at 15 s, a proxy's idle timeout) reads no answer: stop waiting for one.
  await Promise.race([taken.then(() => Promise.all(answers)), deadline, whenAborted(clientGone, waiting.signal)]);
  clearTimeout(timer);
  waiting.abort();
  open = false;
  if (!captured || !adapter.respondDirect) return answerOf(received, refusal, outcome);
  const { reply, post } = captured;
  const postInstead = (why: string) => {
    deps.logger.info({ platform: adapter.platform, message: received.messages[0]?.id }, `${why}; posting the direct reply instead`);
    return tracked(deps, post(), received.messages[0]);
  };
  if (clientGone?.aborted) {
    await postInstead('the client closed the connection before the reply was ready');
    return answerOf(received, refusal, outcome);
  }
  try {
    const response: HttpResponse = { ...adapter.respondDirect(reply, received), outcome: 'answered' };
    // The connection may still close before this answer is all written: then it is posted, so it is not lost.
    clientGone?.addEventListener('abort', () => void postInstead('the client closed the connection before the answer was written'), { once: true });
    return response;
  } catch (error) {
    // The reply could not become the HTTP answer: post it instead, so it is not lost.
    deps.logger.warn({ err: error, platform: adapter.platform }, 'direct reply could not be put in the response; posting it instead');
    await tracked(deps, post(), received.messages[0]);
  }
  return answerOf(received, refusal, outcome);
}

/** `work`, counted by the bot as running until it settles (shutdown waits for it). */
function tracked<T>(deps: DirectDeps, work: Promise<T>, message?: InboundMessage): Promise<T> {
  deps.track?.(work, message).catch(() => undefined);
  return work;
}

/** Settles when `signal` aborts (at once if it has); `until` stops listening. Never, without a signal. */
function whenAborted(signal: AbortSignal | undefined, until: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve();
    else signal?.addEventListener('abort', () => resolve(), { once: true, signal: until });
  });
}

/** A message that must wait goes to the queue, whose worker answers it when the wait is over. */
async function waitInQueue(deps: DirectDeps, message: InboundMessage, error: unknown, requestId: string | undefined): Promise<void> {
  deps.logger.info({ err: error, message: message.id }, 'direct answer must wait; queued for the worker');
  try {
    await deps.queue.add({ id: messageJobId(message), group: conversationGroup(message.conversation), data: messageData(message, requestId) });
  } catch (queueError) {
    // No room (QUEUE_MAX_MESSAGES) or closing: nothing will answer it, so the person hears so, as
    // after the last attempt (answerMessage did not apologise: a wait is not a failure).
    await deadLetter(deps, message, queueError);
    await apologiseOnce(deps, messageJobId(message), message, deps.logger.child({ message: message.id, requestId }), queueError, undefined, requestId).catch((apologyError: unknown) => deps.logger.error({ err: apologyError, message: message.id }, 'could not apologise for a message the queue could not take'));
  }
}

/** Keep a failed direct-mode message where `parley dlq replay` can find it. */
function deadLetter(deps: DirectDeps, message: InboundMessage, error: unknown, attempts = 1): Promise<void> {
  return deadLetterMessage(deps, message, error, attempts, 'direct_failed');
}

/**
 * Keep a message answered outside the queue's worker, and given up, where `parley dlq replay` finds
 * it, counted: a refusal says why (whatsapp_63016), as in queue mode; any other failure is `otherwise`.
 */
export async function deadLetterMessage(deps: Pick<DirectDeps, 'queue' | 'metrics' | 'logger'>, message: InboundMessage, error: unknown, attempts: number, otherwise: string): Promise<void> {
  const reason = error instanceof PermanentError ? error.reason : otherwise;
  deps.metrics.deadLettered.inc({ platform: message.platform, reason });
  await deps.queue
    .addDeadLetter({
      id: messageJobId(message),
      group: conversationGroup(message.conversation),
      data: { type: 'message', message },
      error: errorText(error),
      reason,
      attempts,
      failedAt: new Date().toISOString(),
    })
    .catch((dlqError: unknown) => deps.logger.error({ err: dlqError, platform: message.platform, message: message.id }, 'could not dead-letter a failed message'));
}
