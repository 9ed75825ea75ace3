/**
 * Taking a webhook's messages: in queue mode each is ingested (dedupe → limits → enqueue); in
 * direct mode answered in the request. A message of a platform that never redelivers (Twilio)
 * that the queue or the store cannot take is answered in this process instead of being lost
 * (after taking it again for a few seconds when the queue may have taken it: take-again.ts), a
 * conversation's one after the other (conversation-turns.ts). So is one the in-process queue is too
 * full to take (QUEUE_MAX_MESSAGES), while few are being answered here (inProcessBound); past that
 * it is a flood, refused with a notice in the webhook's answer (TwiML) to send it again.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Adapter, HttpRequest, HttpResponse, LimitRefusal, Received } from './adapter.js';
import { ConversationHistory } from './ai/history.js';
import { releaseWaitMs } from './claim-release.js';
import { HttpError } from './errors.js';
import type { Config } from './config.js';
import { boundedLog } from './conversation-log-bounded.js';
import { ConversationTurns, holdBudgetMs, type Turn } from './conversation-turns.js';
import { deadLetterMessage, respondDirect } from './direct.js';
import { logRefusal } from './http/index.js';
import { leftOutFields, logSummaryOf } from './observe/log-summary.js';
import { answerInProcess, type GivenUp } from './in-process.js';
import { answerOf, ingestMessage, ingestOptionsOf, type IngestDeps, type IngestOptions } from './ingest.js';
import type { InboundMessage } from './message.js';
import { QueueFullError, type RetryOptions } from './queue/index.js';
import { errorText } from './queue/backoff.js';
import { withOutcome, type MessageOutcome } from './outcome.js';
import { MemoryStore } from './store/index.js';
import { outcomeUnknown, takeAgain } from './take-again.js';
import { DEFAULT_MAX_WAIT_MS, type WorkerDeps } from './worker.js';

/** What a person on a platform that never redelivers is told when the queue is full (QUEUE_MAX_MESSAGES). */
export const QUEUE_FULL_NOTICE = "I'm getting more messages than I can answer right now. Please send yours again in a few minutes.";

export interface AcceptDeps {
  config: Config;
  logger: Logger;
  workerDeps: WorkerDeps;
  ingestDeps: IngestDeps;
  /** The queue's retries: an in-process answer is retried the same way. */
  retry: RetryOptions;
  /** Count an in-process answer as running work (shutdown waits for it). */
  track(work: Promise<unknown>, message?: InboundMessage): Promise<unknown>;
  /** How many messages are being answered in this process now (counted by `track`). */
  answeringHere(): number;
  /** Whether the shutdown's drain has begun (the port closing): see DrainingError. */
  draining?(): boolean;
}

/**
 * A webhook's messages offered once the drain has begun (a request still under way, or sent on a
 * keep-alive connection before the stopping server closed it), which this process would hold only in
 * memory (the in-process queue, direct mode): acknowledged, they could be lost at SHUTDOWN_TIMEOUT_MS
 * with no redelivery. Refused instead, so a platform that redelivers sends them again, to a process
 * that stays. (A platform that never redelivers, Twilio, and a platform's last delivery, Slack's third
 * retry, still have them taken: a 503 would lose them.)
 */
export class DrainingError extends HttpError {
  override headers = { 'retry-after': '1', connection: 'close' };
  constructor() {
    super(503, 'shutting_down', 'parley is shutting down and would hold this message only in memory: send it again, to a process that stays.');
  }
}

/**
 * Messages answered in this process at once, per worker slot (WORKER_CONCURRENCY), past which a
 * message the full in-process queue cannot take is refused with a notice rather than answered here.
 * QUEUE_MAX_MESSAGES bounds memory under a flood; answering every overflow message here would undo
 * that. Two per slot answer a burst that fills the queue for a moment (each one message and one AI
 * call, a few KB: nothing next to the queue's thousands) while at most tripling the AI calls in
 * flight, and a flood past that still meets the limit.
 */
export const IN_PROCESS_PER_WORKER_SLOT = 2;

/** How many messages may be answered in this process at once before a full queue's overflow gets the notice. */
export const inProcessBound = (config: Pick<Config, 'queue'>): number => IN_PROCESS_PER_WORKER_SLOT * Math.max(1, config.queue.concurrency);

/**
 * `request`: the webhook's, when there is one; its `signal` (read in direct mode only: made when
 * first asked for) aborts when the client closed the connection before its answer was written.
 * `requestId`: its X-Request-Id, carried to the log lines of the messages' answers.
 */
export type Accept = (adapter: Adapter, received: Received, request?: HttpRequest, requestId?: string) => Promise<HttpResponse>;

export function createAccept({ config, logger, workerDeps, ingestDeps: bare, retry, track, answeringHere, draining }: AcceptDeps): Accept {
  // A claim the store would not give back is retried for as long as the platform waits for the answer (claim-release.ts).
  const ingestDeps: IngestDeps = { ...bare, releaseWaitMs: (platform) => releaseWaitMs(workerDeps.adapterFor(platform)) };
  /**
   * For answering in-process while the queue (and so, usually, Redis) is down: a store of this
   * process's own, so the dedupe claim, the lock and the markers still work; the conversation's
   * history is not at hand (nor where its cached answers are noted for an erase). Its exchange is
   * still written to the conversation log, which is waited for only a moment (conversation-log-bounded.ts).
   */
  let fallback: WorkerDeps | undefined;
  const fallbackDeps = (): WorkerDeps => {
    if (fallback) return fallback;
    const local = new MemoryStore();
    // Nothing goes to the queue from here (it could not take the message): the apology is posted in place.
    const conversationLog = workerDeps.conversationLog && boundedLog(workerDeps.conversationLog, logger, workerDeps.metrics);
    fallback = { ...workerDeps, store: local, history: new ConversationHistory(local, config.history), cachedAnswers: undefined, queueNotice: undefined, durableNotices: false, conversationLog };
    return fallback;
  };
  /** A conversation's messages answered here go one after the other, in the order they came (no queue orders them now). */
  const turns = new ConversationTurns(holdBudgetMs(workerDeps.maxWaitMs ?? DEFAULT_MAX_WAIT_MS, retry), logger);
  const turnOf = (message: InboundMessage) => turns.take(`${message.platform}:${message.conversation.id}`);
  const answerHere = (adapter: Adapter, message: InboundMessage, error: unknown, turn: Turn, requestId: string | undefined, deps = fallbackDeps(), givenUp?: GivenUp) => {
    if (error instanceof QueueFullError) {
      // A flood answers many this way: one line a minute, each at debug.
      const leftOut = logSummaryOf(logger).take(`queue full, answered here ${adapter.platform}`);
      logger[leftOut === undefined ? 'debug' : 'warn']({ platform: adapter.platform, maxJobs: error.maxJobs, ...leftOutFields(leftOut ?? 0) }, 'the in-process queue is full (QUEUE_MAX_MESSAGES); answering the message in this process since the platform will not redeliver');
    } else {
      // A Redis outage answers every message this way: one line a minute per error, each at debug.
      const leftOut = logSummaryOf(logger).takeOf(`not taken, answered here ${adapter.platform}`, errorText(error));
      logger[leftOut === undefined ? 'debug' : 'warn']({ err: error, platform: adapter.platform, requestId, ...leftOutFields(leftOut ?? 0) }, 'could not take the message; answering in this process since the platform will not redeliver');
    }
    return answerInProcess(deps, message, retry, turn, givenUp, requestId);
  };
  /** Counted as running (shutdown waits for it); a failure is logged, there is no one else to tell. */
  const trackHere = (adapter: Adapter, message: InboundMessage, work: Promise<unknown>) => {
    track(work, message).catch((answerError: unknown) => logger.error({ err: answerError, platform: adapter.platform, message: message.id }, 'in-process answer failed'));
  };
  const inProcess = (adapter: Adapter, message: InboundMessage, error: unknown, requestId: string | undefined, deps?: WorkerDeps, givenUp?: GivenUp) =>
    trackHere(adapter, message, answerHere(adapter, message, error, turnOf(message), requestId, deps, givenUp));
  /**
   * A message the full queue could not take, given up here: dead-lettered as the queue would have
   * done (counted, and kept to replay). The queue is up, only full: its dead letters are not held
   * against QUEUE_MAX_MESSAGES. (A queue that is down could not take a dead letter either.)
   */
  const deadLetterHere = (message: InboundMessage) => (error: unknown, attempts: number) =>
    deadLetterMessage({ queue: ingestDeps.queue, metrics: workerDeps.metrics, logger }, message, error, attempts, 'attempts_exhausted');
  /**
   * The in-process queue is full, not down: the bot's own store is up (in memory, or a store of the
   * developer's that the queue's limit says nothing about), so the message is answered with it —
   * its dedupe claim where the webhook's was, its conversation's history — not with fallbackDeps,
   * which is for a store that is down. False when it is a flood (inProcessBound) and the sender can
   * be told to send it again instead.
   */
  const answeredDespiteFull = (adapter: Adapter, message: InboundMessage, error: QueueFullError, requestId: string | undefined): boolean => {
    if (adapter.respondDirect && answeringHere() >= inProcessBound(config)) return false;
    inProcess(adapter, message, error, requestId, workerDeps, deadLetterHere(message));
    return true;
  };
  /**
   * The queue may have taken the message after all (its step timed out once written): answering it
   * here now could answer it twice. Taken again in the background first; a try that finds this
   * delivery's claim found it taken. Its turn is taken now: a later message answered here waits
   * for it, and goes as soon as the queue has it.
   */
  const notTaken = (adapter: Adapter, message: InboundMessage, options: IngestOptions, error: unknown, requestId: string | undefined) => {
    if (!outcomeUnknown(error)) return inProcess(adapter, message, error, requestId);
    logger.warn({ err: error, platform: adapter.platform, message: message.id }, 'the queue may or may not have taken the message; taking it again before answering in this process');
    const turn = turnOf(message);
    const answered = takeAgain(() => ingestMessage(ingestDeps, message, options, requestId)).then((failed) => (failed ? answerHere(adapter, message, failed.error, turn, requestId) : undefined));
    trackHere(adapter, message, answered.finally(turn.done));
  };

  return async function accept(adapter, received, request, requestId) {
    // Not the platform's last delivery either (Slack's third retry): refused, it is lost for sure.
    if (draining?.() && adapter.redelivers !== false && !received.lastDelivery && (config.mode === 'direct' || ingestDeps.queue.volatile)) throw new DrainingError();
    if (config.mode === 'direct') {
      const untaken = adapter.redelivers === false ? { untaken: (message: InboundMessage, error: unknown) => inProcess(adapter, message, error, requestId) } : {};
      return respondDirect({ ...workerDeps, ...ingestDeps, deadlineMs: config.directDeadlineMs, retry, track, ...untaken }, adapter, received, request?.signal, requestId);
    }
    // A sender that never redelivers may take a delivery again (notTaken): its claims are marked as this delivery's.
    const options: IngestOptions = adapter.redelivers === false ? { ...ingestOptionsOf(received), delivery: randomUUID() } : ingestOptionsOf(received);
    let refusal: LimitRefusal | undefined;
    let full: QueueFullError | undefined;
    let outcome: MessageOutcome | undefined;
    for (const message of received.messages) {
      try {
        const ingested = await ingestMessage(ingestDeps, message, options, requestId);
        if (ingested.outcome === 'rate_limited') refusal ??= ingested.refusal;
        outcome = withOutcome(outcome, ingested.outcome);
      } catch (error) {
        if (adapter.redelivers !== false) throw error;
        if (!(error instanceof QueueFullError)) notTaken(adapter, message, options, error, requestId);
        else if (!answeredDespiteFull(adapter, message, error, requestId)) full = error;
        if (full !== error) outcome = withOutcome(outcome, 'answered');
      }
    }
    if (full) {
      // Counted and logged (summarised) as the router does a refusal; the person is told to send again.
      logRefusal(ingestDeps, adapter.platform, new HttpError(200, full.reason, `${full.message} ${inProcessBound(config)} already answered in this process: answered with a notice to send it again.`));
      return { ...adapter.respondDirect!({ kind: 'notice', text: QUEUE_FULL_NOTICE }, received), outcome: 'queue_full' };
    }
    return answerOf(received, refusal, outcome);
  };
}
