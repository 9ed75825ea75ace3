/**
 * The one apology of a message that is given up: after its last attempt (the worker), or when
 * the queue gives up on it without running it (its workers kept dying under it).
 */
import type { Logger } from 'pino';
import { PermanentError } from './adapter.js';
import { MARKER_TTL_MS, keys, type JobData } from './jobs.js';
import { recordApology } from './exchange-log.js';
import { invalidJob, jobPlatform } from './job-check.js';
import type { InboundMessage, Reply } from './message.js';
import type { Job, JobQueue } from './queue/index.js';
import { forgetWait } from './failure.js';
import { sendOnce } from './send-once.js';
import type { WorkerDeps } from './worker.js';

const APOLOGY: Reply = { kind: 'apology', text: "Sorry — I couldn't answer that just now. Please try again in a little while." };
/** For a message the model refused as longer than it reads: trying again later would not help. */
const TOO_LONG: Reply = { kind: 'apology', text: 'Sorry — that message is longer than I can read at once. Could you send a shorter one?' };

/** A queue's dead-letter reason for a message larger than it takes (SQS's MaximumMessageSize). */
const TOO_LARGE = 'too_large';
/** The reason a queue gives up a job its workers lost hold of too often (ProcessOptions.onAbandoned). */
const STALLED = 'stalled';
/**
 * How long after the AI's deadline a run still on a stalled job may take: its posting, and an inline
 * wait (as QUEUE_LOCK_MS's default reckons one attempt, AI_DEADLINE_MS + 30 s).
 */
const stalledApologyDelayMs = (aiDeadlineMs: number) => aiDeadlineMs + 30_000;

/** The worker's notices (apologies) on `queue`: each a job of its own, in a group of its own. */
export function noticesOn(queue: JobQueue<JobData>, aiDeadlineMs: number): Pick<WorkerDeps, 'queueNotice' | 'durableNotices' | 'stalledApologyDelayMs' | 'dropDeadLetter'> {
  return {
    queueNotice: async (id, conversation, reply, delayMs, givenUp) => void (await queue.add({ id, group: id, data: { type: 'notice', conversation, reply, ...(givenUp ? { givenUp } : {}) }, ...(delayMs ? { delayMs } : {}) })),
    durableNotices: queue.volatile !== true,
    stalledApologyDelayMs: stalledApologyDelayMs(aiDeadlineMs),
    // Only where the apology really waits can the verdict on its message wait with it.
    ...(queue.delays && queue.dropDeadLetter ? { dropDeadLetter: (id: string) => queue.dropDeadLetter!(id) } : {}),
  };
}

/** For a message (or an answer to it) the provider's content filter blocked: asked again, it is blocked again. */
const FILTERED: Reply = { kind: 'apology', text: "Sorry — I can't help with that one." };

/** The apology that fits why the message was given up. */
function apologyFor(failure: unknown): Reply {
  const reason = failure instanceof PermanentError ? failure.reason : undefined;
  return reason === 'ai_input_too_long' || reason === TOO_LARGE ? TOO_LONG : reason === 'ai_content_filtered' ? FILTERED : APOLOGY;
}

/**
 * A job the queue gave up on without running it (its workers kept dying under it): counted as
 * dead, and the user gets the one apology unless the message was answered before. Given up as
 * `stalled` (BullMQ: its lock lapsed twice), a worker may still be running it (one that only lost
 * Redis for longer than QUEUE_LOCK_MS): its apology is queued `stalledApologyDelayMs` later, and
 * posted then only if that run has not answered it meanwhile (see noticeStillOwed); where the
 * queue really waits (BullMQ), the message is judged lost or not only then (settleStalled).
 */
export async function abandonJob(deps: WorkerDeps, job: Job<JobData>, reason: string): Promise<void> {
  const data = job.data;
  if (invalidJob(data)) {
    // Not a parley job: no conversation to apologise to (processJob logged it when it ran).
    deps.metrics.deadLettered.inc({ platform: jobPlatform(data), reason });
    deps.logger.warn({ job: job.id, reason }, 'job data is not a parley job: given up by the queue');
    return;
  }
  const conversation = data.type === 'notice' ? data.conversation : data.message.conversation;
  const message = data.type === 'message' ? data.message : undefined;
  const judgedLater = reason === STALLED && message !== undefined && deps.dropDeadLetter !== undefined && deps.durableNotices === true && deps.queueNotice !== undefined;
  if (!judgedLater) deps.metrics.deadLettered.inc({ platform: conversation.platform, reason });
  // As processJob does for a job it gives up: a replay waits the whole AI_MAX_WAIT_MS again.
  await forgetWait(deps.store, job.id);
  const logger = deps.logger.child({ job: job.id, platform: conversation.platform, conversation: conversation.id });
  const answered = message !== undefined && (await deps.store.get(keys.sent(job.id, 1))) !== undefined;
  if (judgedLater) {
    if (await judgeLater(deps, job.id, message!, answered, logger)) return;
    deps.metrics.deadLettered.inc({ platform: conversation.platform, reason }); // its apology could not be queued: as any give-up
  }
  logger.warn({ reason }, 'message given up by the queue without being answered');
  if (data.type !== 'message') return;
  // A message too large for its queue (SQS) was queued cut and never run: its sender is asked for a shorter one.
  const delayMs = reason === STALLED ? deps.stalledApologyDelayMs : undefined;
  if (!answered) await apologiseOnce(deps, job.id, data.message, logger, reason === TOO_LARGE ? new PermanentError('larger than the queue takes', TOO_LARGE) : undefined, delayMs, data.requestId);
}

/**
 * Closing the in-process queue, with time left: the messages its drain did not start (no time left
 * to answer them, so lost with the process) get the apology, WORKER_CONCURRENCY at a time, so their
 * senders know to ask again. A post takes far less than an answer; one the deadline cuts short is
 * simply not shown, and none starts after it (`timeUp`). Never-started jobs only: one that ran may
 * have shown part of its answer, or wait out its platform's Retry-After, which would refuse the
 * apology too. A queue that keeps its jobs leaves them to the next process.
 */
export async function apologiseNeverStarted(deps: WorkerDeps, queue: JobQueue<JobData>, concurrency: number, posted: (job: string) => void, timeUp?: AbortSignal): Promise<void> {
  if (!queue.volatile) return;
  const owed = (queue.neverStartedJobs?.() ?? []).filter((job) => !invalidJob(job.data) && job.data.type === 'message');
  const next = owed[Symbol.iterator]();
  const post = async () => {
    for (const job of next) {
      // Past the deadline close() has gone on (the store released): a post started now would outlive it.
      if (timeUp?.aborted) return;
      const { message, requestId } = job.data as Extract<JobData, { type: 'message' }>;
      const logger = deps.logger.child({ job: job.id, platform: message.platform, conversation: message.conversation.id });
      if (await apologiseOnce(deps, job.id, message, logger, undefined, undefined, requestId).catch((e: unknown) => logger.warn({ err: e }, 'could not apologise for a message not answered before shutdown'))) posted(job.id);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, post));
}

/**
 * A message given up as stalled where its apology can wait: answered already, it was not lost
 * (settled now); else its apology is queued `stalledApologyDelayMs` later, carrying the message, to
 * judge it then. False when that could not be queued: it is given up as any other.
 */
async function judgeLater(deps: WorkerDeps, jobId: string, message: InboundMessage, answered: boolean, logger: Logger): Promise<boolean> {
  if (answered) return (await settleStalled(deps, jobId, message, false, logger), true);
  try {
    await deps.queueNotice!(apologyId(jobId), message.conversation, APOLOGY, deps.stalledApologyDelayMs, message);
  } catch (error) {
    logger.error({ err: error }, 'could not queue the apology');
    return false;
  }
  logger.warn({ reason: STALLED }, 'message given up by the queue; a run may still answer it: counted as lost only if still unanswered when its apology is due');
  return true;
}

/**
 * The verdict on a message given up as stalled, once its apology is due (`owed`: still unanswered)
 * or answered before: lost, it is counted as a dead letter and logged apologised, once (its apology
 * marker, which also keeps a later try of the apology from undoing this); answered by a run still
 * on it, it was not lost: not counted, not logged apologised, and its dead letter is dropped.
 */
export async function settleStalled(deps: WorkerDeps, jobId: string, message: InboundMessage, owed: boolean, logger: Logger): Promise<void> {
  if (owed) {
    if (!(await deps.store.setIfAbsent(keys.apology(jobId), '1', MARKER_TTL_MS))) return;
    deps.metrics.deadLettered.inc({ platform: message.conversation.platform, reason: STALLED });
    logger.warn({ reason: STALLED }, 'message given up by the queue without being answered');
    return recordApology(deps.conversationLog, message, APOLOGY.text, logger, deps.metrics);
  }
  if ((await deps.store.get(keys.apology(jobId))) !== undefined) return;
  const dropped = await deps.dropDeadLetter?.(jobId);
  logger.info({ reason: STALLED, deadLetterDropped: dropped === true }, 'message given up by the queue was answered by a run still on it: not counted as lost, its dead letter dropped');
}

/** The queued apology of message job `<id>` is the notice job `apology.<id>` (its markers are keyed by it). */
const APOLOGY_PREFIX = 'apology.';
export const apologyId = (jobId: string) => APOLOGY_PREFIX + jobId;

/**
 * Whether the notice job `noticeId` should still be posted: not when it is a message's apology
 * and that message has been answered since (a replay of both dead letters, say: an apology
 * after the answer would only confuse).
 */
export async function noticeStillOwed(store: WorkerDeps['store'], noticeId: string): Promise<boolean> {
  const messageJob = apologisedJob(noticeId);
  return messageJob === undefined || (await store.get(keys.sent(messageJob, 1))) === undefined;
}

/** The message job whose apology notice job `noticeId` is, if it is one. */
const apologisedJob = (noticeId: string) => (noticeId.startsWith(APOLOGY_PREFIX) ? noticeId.slice(APOLOGY_PREFIX.length) : undefined);

/** Notice job `noticeId` is due: whether to post it (noticeStillOwed); the apology of a message given up as stalled settles that message too. */
export async function noticeDue(deps: WorkerDeps, noticeId: string, givenUp: InboundMessage | undefined): Promise<boolean> {
  const owed = await noticeStillOwed(deps.store, noticeId);
  const jobId = apologisedJob(noticeId);
  if (!givenUp || jobId === undefined) return owed;
  await settleStalled(deps, jobId, givenUp, owed, deps.logger.child({ job: jobId, platform: givenUp.conversation.platform, conversation: givenUp.conversation.id }));
  return owed;
}

/**
 * The apology (the one that fits `failure`, why the message was given up), posted once per job
 * whatever retries and processes do: under the key `apology.<job>`, so its markers keep a second
 * run from posting it again, and a post whose fate is unknown is looked for before it is repeated.
 * On a queue that outlives this process (Redis, SQS) it is queued as a job of its own first, which
 * the queue retries: a process dying now, or the platform refusing it for now, loses nothing. On
 * the in-process queue it is posted at once, and queued only when the platform refused it for now.
 * The message goes into the conversation log as apologised (once), with how long the person waited.
 * `delayMs`: queued, it is posted no sooner (where the queue can wait), and only if the message has
 * not been answered by then. Resolves true when this call posted or queued it.
 */
export async function apologiseOnce(deps: WorkerDeps, jobId: string, message: InboundMessage, logger: Logger, failure?: unknown, delayMs?: number, requestId?: string): Promise<boolean> {
  const conversation = message.conversation;
  const apology = apologyFor(failure);
  const noticeId = apologyId(jobId);
  const queue = () =>
    deps.queueNotice!(noticeId, conversation, apology, delayMs).then(
      () => true,
      (error: unknown) => (logger.error({ err: error }, 'could not queue the apology'), false),
    );
  let posted: string | undefined;
  if (deps.durableNotices && deps.queueNotice && (await queue())) {
    posted = apology.text;
  } else {
    try {
      const shown = await sendOnce(deps, noticeId, 1, conversation, apology);
      if (shown.posted) posted = apology.text;
    } catch (error) {
      // The platform refused it for now (a 5xx, a 429 longer than is waited out in place): the
      // queue tries again. A refusal for good is only logged: the message itself is dead-lettered
      // with everything needed to replay it.
      if (!(error instanceof PermanentError) && deps.queueNotice && (await queue())) logger.warn({ err: error }, 'could not post the apology; queued to be posted again');
      else logger.error({ err: error }, 'could not post the apology');
    }
  }
  // Logged once, whichever run or process gets here first.
  if (await deps.store.setIfAbsent(keys.apology(jobId), '1', MARKER_TTL_MS).catch(() => true)) await recordApology(deps.conversationLog, message, posted, logger, deps.metrics, requestId);
  return posted !== undefined;
}
