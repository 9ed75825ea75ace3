/**
 * Answering one message: "thinking…" → handler (history, AI) → reply, with effectively-once
 * replies and exactly one apology when the message is given up. The queue keeps a conversation's
 * messages in order and one at a time (its groups; on Redis the turnstile, on SQS FIFO message
 * groups); only direct mode, which has no queue, takes a conversation lock.
 */
import { PermanentError, RetryAfterError } from './adapter.js';
import type { MessageContext } from './handler.js';
import { recordExchange } from './exchange-log.js';
import { keys, type JobData } from './jobs.js';
import type { ConversationRef, InboundMessage, Reply } from './message.js';
import { PendingWrites } from './pending-writes.js';
import { lockConversation } from './conversation-lock.js';
import { collectShowingNothing as collect } from './ai/collect.js';
import { sendOnce, sentAlready, streamOnce, type Shown } from './send-once.js';
import { watchChunks } from './watch-chunks.js';
import { indicate } from './indicator.js';
import { orAfter } from './timeout.js';
import { apologiseOnce, noticeDue } from './apology.js';
import { errorText, isDeferral, type Job } from './queue/index.js';
import { guessedWait, isPlatformWait } from './platform-unreachable.js';
import { LeaseLostError, postingWhileHeld } from './lease.js';
import { STATUS_REFRESH_MS, asQueueError, forgetWait, waitOrGiveUp } from './failure.js';
import { invalidJob, jobPlatform } from './job-check.js';
import type { WorkerDeps } from './worker-deps.js';

export type { WorkerDeps } from './worker-deps.js';

/** Where a handler's replies go: normally the adapter; in direct mode, maybe the HTTP answer. `onSentBefore` is
 * called when an earlier run of the job had already posted this reply. Resolves to what the user got
 * (`posted: false`: nothing at all), or nothing when the reply went as asked. */
export type ReplySink = (conversation: ConversationRef, reply: Reply, n: number, onSentBefore: () => void) => Promise<Shown | void>;
/** Where a streamed reply goes; returns the whole text. */
export type StreamSink = (conversation: ConversationRef, chunks: AsyncIterable<string>, n: number, onSentBefore: () => void) => Promise<string>;

/** A status call that hangs (the platform slow to answer it) holds a reply back no longer than this. */
const STATUS_WAIT_MS = 1000;
/** How often a job looks again at an adapter that is starting. */
const ADAPTER_POLL_MS = 50;
/** AI_MAX_WAIT_MS's default. */
export const DEFAULT_MAX_WAIT_MS = 10 * 60_000;
/** How often a job re-checks an adapter that is still starting. */
const ADAPTER_WAIT_MS = 2000;
/** How long a job waits in place for an adapter that is starting right now. */
const ADAPTER_GRACE_MS = 1000;

/** A failure another try may not meet: neither permanent, nor a wait already, nor a hold lost to another worker. */
const passing = (error: unknown) => !(error instanceof PermanentError) && !isDeferral(error) && !(error instanceof LeaseLostError);

/** Process one queued job. Throws to let the queue retry or dead-letter it. */
export async function processJob(deps: WorkerDeps, job: Job<JobData>): Promise<void> {
  // A wait never ends a message by itself: only AI_MAX_WAIT_MS does (waitOrGiveUp turns it permanent). A lost hold: the other worker's run decides.
  const final = (error: unknown) => error instanceof PermanentError || (passing(error) && job.attempt >= job.maxAttempts);
  const platform = jobPlatform(job.data);
  const invalid = invalidJob(job.data);
  if (invalid) {
    // Poison whatever the queue: it would fail the same way on every attempt, with nothing to apologise to.
    deps.logger.error({ job: job.id, group: job.group, problem: invalid }, 'job data is not a parley job: dead-lettered without retries (invalid_job)');
    deps.metrics.deadLettered.inc({ platform, reason: 'invalid_job' });
    throw new PermanentError(`the job's data is not a parley job: ${invalid}`, 'invalid_job');
  }
  try {
    await handleJob(postingWhileHeld(deps, job), job, final);
  } catch (error) {
    // answerMessage logs a message's failure; a notice's is logged here, so no failure goes unsaid on any queue.
    if (job.data.type === 'notice' && isDeferral(error) && !final(error)) deps.logger[waitLevel(deps, platform)]({ reason: error.message, job: job.id, platform }, 'notice waiting; will try again');
    else if (job.data.type === 'notice') deps.logger.warn({ err: error, job: job.id, platform, attempt: job.attempt, final: final(error) }, 'notice could not be posted');
    if (job.data.type === 'notice' && final(error)) await forgetWait(deps.store, job.id); // a replay waits the whole AI_MAX_WAIT_MS again
    // The queue buries the job now (the same rule as its own): counted for /metrics, the console's minutes and the dead-letter alert.
    if (final(error)) deps.metrics.deadLettered.inc({ platform, reason: error instanceof PermanentError ? error.reason : 'attempts_exhausted' });
    throw error;
  }
}

async function handleJob(deps: WorkerDeps, job: Job<JobData>, final: (error: unknown) => boolean): Promise<void> {
  const data = job.data;
  if (data.type === 'notice') {
    // Waits for its adapter and out the platform's 429s within AI_MAX_WAIT_MS, as a message does (no attempt spent).
    const waitOrGiveUpNotice = async (error: unknown) => {
      if (isPlatformWait(error)) deps.metrics.platformWaits.inc({ platform: data.conversation.platform });
      throw isDeferral(error) ? await waitOrGiveUp(deps.store, job.id, error, deps.maxWaitMs ?? DEFAULT_MAX_WAIT_MS) : error;
    };
    // A platform failing for now (a 5xx) is waited out too: an apology that spent its attempts in
    // a short outage would be dead-lettered with its message, and the user would get nothing at all.
    const notPostedYet = (error: unknown) => waitOrGiveUpNotice(passing(error) ? guessedWait(`the notice could not be posted for now: ${errorText(error)}`) : error);
    await adapterStarted(deps, data.conversation.platform).catch(waitOrGiveUpNotice);
    if (await noticeDue(deps, job.id, data.givenUp)) await sendOnce(deps, job.id, 1, data.conversation, data.reply).catch(notPostedYet);
    else deps.logger.info({ job: job.id, platform: data.conversation.platform }, 'apology not posted: its message has been answered since');
    return;
  }
  // The replies' markers are written while the handler goes on; the job ends once they are.
  const pending = new PendingWrites();
  const runStartedAt = Date.now();
  await answerMessage(deps, data.message, {
    jobId: job.id,
    requestId: data.requestId,
    attempt: job.attempt,
    ...(job.redelivered ? { redelivered: true } : {}),
    isFinalFailure: final,
    onWait: (error) => waitOrGiveUp(deps.store, job.id, error, deps.maxWaitMs ?? DEFAULT_MAX_WAIT_MS, runStartedAt),
    pending,
    sink: (conversation, reply, n, onSentBefore) => sendOnce(deps, job.id, n, conversation, reply, { pending, onSentBefore }),
    streamSink: (conversation, chunks, n, onSentBefore) => streamOnce(deps, job.id, n, conversation, chunks, onSentBefore),
  });
}

export interface AnswerOptions {
  jobId: string;
  requestId?: string; // the webhook's X-Request-Id (absent: none, or a job queued before it was carried)
  attempt: number;
  /** The queue handed the job out before (see Job.redelivered): like a later attempt, it may repeat a run that answered. */
  redelivered?: boolean;
  /** Whether this failure ends the message (then the user gets the apology). */
  isFinalFailure(error: unknown): boolean;
  /** A wait (rate limit, open circuit): wait again, or give up when it has lasted too long. */
  onWait?(error: RetryAfterError): Promise<RetryAfterError | PermanentError>;
  sink: ReplySink;
  /** Without it (direct mode), streamed replies are collected and go through `sink`. */
  streamSink?: StreamSink;
  /** No queue orders this conversation's messages (direct mode): hold its lock while answering. */
  serialize?: boolean;
  /** Writes the sinks left pending (the replies' markers): waited for before the message counts as answered. */
  pending?: PendingWrites;
}

/** Answer one message. Shared by the worker and direct mode. */
export async function answerMessage(deps: WorkerDeps, message: InboundMessage, options: AnswerOptions): Promise<void> {
  const adapter = deps.adapterFor(message.platform);
  if (!adapter) throw new PermanentError(`no adapter for platform "${message.platform}"`, 'no_adapter');
  const started = performance.now();
  const logger = deps.logger.child({ job: options.jobId, requestId: options.requestId, platform: message.platform, conversation: message.conversation.id });
  let release: (() => Promise<void>) | undefined;
  /** The "thinking…" status on its way: sent alongside the handler's first steps, settled before any reply. */
  let thinking: Promise<void> | undefined;
  /** The status was still on its way when a reply was due: the reply went first, and the status is cleared at the end. */
  let statusLate = false;
  /** Status calls not answered yet: a reply waits (with a timer) only when one is. */
  let statusCalls = 0;
  const sendStatus = () => {
    statusCalls++;
    thinking = indicate(adapter, message.conversation, 'thinking', logger).finally(() => statusCalls--);
  };
  const statusSettled = async () => {
    if (statusCalls > 0 && !(await orAfter(thinking!.then(() => true), STATUS_WAIT_MS, false))) statusLate = true;
  };
  let waiting = false;
  let refresh: NodeJS.Timeout | undefined;
  /** Replies begun (each one's number keys its markers) and posted; whether the AI's stream or the platform failed one. */
  let replies = 0;
  let delivered = 0;
  /** Replies the adapter held back (the conversation is no longer the bot's): posted nowhere. */
  let withheld = 0;
  let aiFailed = false;
  let refused = false;
  /** An earlier run of this job posted a reply: it may have written the history and the log too. */
  let resumed = false;
  const sentBefore = () => void (resumed = true);
  /** Post, counting the reply as delivered only when something reached the user. */
  const posting = async <R>(post: () => Promise<R>, reached: (result: R) => boolean = () => true): Promise<R> => {
    try {
      const result = await post();
      if (reached(result)) delivered++;
      return result;
    } catch (error) {
      // The platform refused the conversation: an apology would meet the same refusal (not so when it refused only this content,
      // nor when a sink that waits by itself gave up waiting for a platform down: max_wait).
      refused ||= !aiFailed && error instanceof PermanentError && !error.contentRefused && error.reason !== 'max_wait';
      throw error;
    }
  };
  const streamSink = adapter.stream ? options.streamSink : undefined;
  // Each answer's cache key leaves with the history's or the log's write (on Redis, no round trip of its own); only where erased.
  const answers = adapter.forgets ? deps.cachedAnswers?.forMessage(deps.ai, message.conversation, logger) : undefined;
  const withKeys = <T>(write: Promise<T>) => (answers ? answers.with(write) : write);
  try {
    await adapterStarted(deps, message.platform);
    if (options.serialize) release = await lockConversation(deps.store, message.conversation, deps.lockTtlMs ?? 30_000);
    // A conversation nothing can be posted in any more costs no AI call, and gets no apology (it would meet the same refusal).
    const allowed = await adapter.canReply?.(message.conversation).catch((error: unknown) => {
      refused ||= error instanceof PermanentError;
      throw error;
    });
    if (allowed === false) {
      logger.info({ attempt: options.attempt }, 'message not answered: the conversation is no longer the bot\'s (no AI call)');
      return;
    }
    sendStatus();
    // Refreshed while the handler waits (the platform drops it); a reply waits for a refresh in flight.
    refresh = setInterval(sendStatus, STATUS_REFRESH_MS);
    refresh.unref();
    const context: MessageContext = {
      ai: answers?.ai ?? deps.ai,
      settings: deps.settings,
      handOff: async () => {
        await adapter.handoff?.(message.conversation);
      },
      conversation: message.conversation,
      logger,
      attempt: options.attempt,
      // Read only on a run that may repeat one that answered, for this reply (an earlier one's says nothing of it).
      postedBefore: async () => (options.attempt > 1 || options.redelivered === true) && sentAlready(deps.store, options.jobId, replies + 1).then((posted) => ((resumed ||= posted), posted)),
      history: {
        window: () => deps.history.window(message.conversation),
        append: (turns) => withKeys(resumed ? deps.history.appendUnlessThere(message.conversation, turns) : deps.history.append(message.conversation, turns)),
      },
      // A status landing after the reply would stay up: the reply waits for it (a while; then it is cleared at the end).
      reply: async (reply) => {
        const n = ++replies;
        clearInterval(refresh); // the reply clears the status: a later refresh would set it again
        await statusSettled();
        const asked = typeof reply === 'string' ? { text: reply } : reply;
        // An empty message is no reply: nothing is posted, and the status is cleared at the end.
        if (asked.text.trim() === '') {
          logger.warn({ n }, 'the reply has no text; nothing posted');
          return '';
        }
        const shown = await posting(() => options.sink(message.conversation, asked, n, sentBefore), (result) => result?.posted !== false);
        if (shown?.withheld) withheld++;
        return shown ? shown.text : asked.text;
      },
      canStream: streamSink !== undefined,
      async replyStream(chunks) {
        const n = ++replies;
        await statusSettled();
        // Entered before the AI has said anything: it counts as posted only once it is.
        // The status is refreshed until the AI's first words, which clear it.
        const watched = watchChunks(chunks, { first: () => clearInterval(refresh), failed: () => (aiFailed = true) });
        return posting(async () => {
          const text = streamSink ? await streamSink(message.conversation, watched, n, sentBefore) : await collect(watched);
          if (!streamSink) await options.sink(message.conversation, { text, kind: 'answer' }, n, sentBefore);
          return text;
        });
      },
      // Only held back, nothing posted: the log says so rather than pass it for an answer.
      recordExchange: (exchange) => withKeys(recordExchange(deps.conversationLog, message, exchange, logger, options.jobId, resumed, withheld > 0 && delivered === 0 ? 'withheld' : undefined, deps.metrics, options.requestId)),
    };
    logger.debug({ text: message.text }, 'answering message');
    await deps.handler()(message, context);
    await Promise.all([answers?.flush(), options.pending?.settled()]);
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.jobDuration.observe({ platform: message.platform, outcome: 'answered' }, seconds);
    if (delivered > 0) deps.metrics.replySeconds.observe({ platform: message.platform }, Math.max(0, Date.now() - Date.parse(message.receivedAt)) / 1000);
    if (delivered === 0 && withheld > 0) logger.info({ replies: 0, withheld, durationMs: Math.round(seconds * 1000), attempt: options.attempt }, 'message not answered: its reply was held back');
    else logger.info({ replies: delivered, durationMs: Math.round(seconds * 1000), attempt: options.attempt }, 'message answered');
  } catch (caught) {
    // Nothing of this attempt's is still being written once it ends (a retry reads the markers); its answers' keys are noted.
    await Promise.all([options.pending?.settled().catch(() => undefined), answers?.flush()]);
    let error = asQueueError(caught);
    if (isPlatformWait(error)) deps.metrics.platformWaits.inc({ platform: message.platform }); // an outage: no failed reply counts it
    if (isDeferral(error) && options.onWait) error = await options.onWait(error);
    waiting = isDeferral(error) || error instanceof LeaseLostError; // another worker answers a message whose hold ran out
    const final = options.isFinalFailure(error);
    deps.metrics.jobDuration.observe({ platform: message.platform, outcome: final ? 'failed' : 'retry' }, (performance.now() - started) / 1000);
    // A wait (every AI slot taken, a rate limit) is no failure: said without the stack (waitLevel).
    if (isDeferral(error) && !final) logger[waitLevel(deps, message.platform)]({ reason: error.message, retryAfterMs: error.retryAfterMs, attempt: options.attempt }, 'message waiting; will try again');
    else logger.warn({ err: error, attempt: options.attempt, final }, final ? 'message given up' : error instanceof LeaseLostError ? 'message not posted: its hold ran out, another worker answers it' : 'message failed, will retry');
    // An apology for a message the user already got an answer to would only confuse them.
    const answered = delivered > 0 || refused || (await deps.store.get(keys.sent(options.jobId, 1)).catch(() => undefined)) !== undefined;
    if (final && !answered) await apologiseOnce(deps, options.jobId, message, logger, error, undefined, options.requestId);
    if (final) await forgetWait(deps.store, options.jobId);
    throw error;
  } finally {
    clearInterval(refresh);
    // A waiting message keeps its "thinking…": it is still on its way.
    const cleared = delivered > 0 && adapter.replyClearsIndicator === true && !statusLate;
    await thinking;
    if (thinking && !waiting && !cleared) await indicate(adapter, message.conversation, 'done', logger);
    await release?.();
  }
}

/** Resolves once the platform's adapter has started (one just starting gets a moment); else throws the wait, a deferral. */
async function adapterStarted({ adapterReady: ready }: WorkerDeps, platform: string): Promise<void> {
  const giveUpAt = Date.now() + ADAPTER_GRACE_MS;
  while (ready && !ready(platform)) {
    if (Date.now() >= giveUpAt) throw new RetryAfterError(`the ${platform} adapter has not started yet`, ADAPTER_WAIT_MS);
    await new Promise((resolve) => setTimeout(resolve, ADAPTER_POLL_MS));
  }
}

/** A wait is said at info, at debug while its adapter is starting (re-checked every 2 s; the adapter's state is logged once). */
const waitLevel = (deps: WorkerDeps, platform: string) => (deps.adapterReady?.(platform) === false ? 'debug' : 'info');
