/**
 * Answering a message in this process, for a platform that never redelivers (Twilio) when the
 * queue or the store cannot take it: claimed once (a second delivery of it is a duplicate), then
 * answered and retried as the queue would, with its backoff and attempts, before the one apology.
 */
import { SEEN_TTL_MS, keys } from './jobs.js';
import type { InboundMessage } from './message.js';
import type { RetryOptions } from './queue/index.js';
import { waitOrGiveUp } from './failure.js';
import { retryingSink, Tries } from './retries.js';
import { DEFAULT_MAX_WAIT_MS, answerMessage, type WorkerDeps } from './worker.js';
import type { RetryAfterError } from './adapter.js';
import type { ConversationLog } from './conversation-log.js';
import type { Turn } from './conversation-turns.js';

/**
 * Claim the message in `deps.store` (this process's own, while the shared one is down) and answer
 * it: a failure the queue would retry is retried after its backoff, up to `retry.attempts` tries in
 * all; a wait (a platform's 429, a rate limit) waits without spending an attempt, within
 * AI_MAX_WAIT_MS. A reply the platform failed is posted again by itself, and each reply's markers
 * keep a retry from posting again what was posted. Rejects when given up (after the apology).
 * `turn`: its place in its conversation's line (conversation-turns.ts): answered once the message
 * before it is out, and out itself once its reply (or its apology) is posted. `requestId`: the
 * webhook's X-Request-Id, on the message's log lines as the worker puts it.
 */
export async function answerInProcess(deps: WorkerDeps, message: InboundMessage, retry: RetryOptions, turn?: Turn, givenUp?: GivenUp, requestId?: string): Promise<'answered' | 'duplicate'> {
  try {
    if (!(await deps.store.setIfAbsent(keys.seen(message), new Date().toISOString(), SEEN_TTL_MS))) {
      deps.metrics.duplicatesDropped.inc({ platform: message.platform });
      return 'duplicate';
    }
    deps.metrics.messagesReceived.inc({ platform: message.platform });
    await turn?.ready;
    return await answerInTurn(turn ? { ...deps, conversationLog: deps.conversationLog && outOnceLogged(deps.conversationLog, turn) } : deps, message, retry, givenUp, requestId);
  } finally {
    turn?.done();
  }
}

/**
 * The conversation log, through which `turn` is out as soon as the message's exchange (written
 * after its reply is posted) or its apology (after that is) starts being written: that write is the
 * one of its last steps that waits for Redis, down now, and the next message must not wait with it.
 * (A handler that records its exchange before a later reply lets the next message go at that point.)
 */
function outOnceLogged(log: ConversationLog, turn: Turn): ConversationLog {
  return {
    record: (entry) => (turn.done(), log.record(entry)),
    list: (conversationId, limit) => log.list(conversationId, limit),
  };
}

/** Told of a message given up (its apology posted), with the attempts spent, before answerInProcess rejects. */
export type GivenUp = (error: unknown, attempts: number) => Promise<void>;

async function answerInTurn(deps: WorkerDeps, message: InboundMessage, retry: RetryOptions, givenUp: GivenUp | undefined, requestId: string | undefined): Promise<'answered'> {
  const jobId = `inprocess.${message.id}`;
  const maxWaitMs = deps.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const tries = new Tries(retry);
  let runStartedAt = Date.now();
  const onWait = (error: RetryAfterError) => waitOrGiveUp(deps.store, jobId, error, maxWaitMs, runStartedAt);
  // A reply the platform refused for now is posted again on its own: the AI is not asked again for it.
  const sink = retryingSink(deps, jobId, tries, onWait);
  for (;;) {
    runStartedAt = Date.now();
    try {
      await answerMessage(deps, message, { jobId, requestId, attempt: tries.attempt, isFinalFailure: tries.final, onWait, sink });
      return 'answered';
    } catch (error) {
      if (tries.final(error)) {
        await givenUp?.(error, tries.attempt);
        throw error;
      }
      await tries.backOff(error);
    }
  }
}
