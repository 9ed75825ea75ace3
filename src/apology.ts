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
import type { Job } from './queue/index.js';
import { postReply } from './replies.js';
import type { WorkerDeps } from './worker.js';

const APOLOGY: Reply = { kind: 'apology', text: "Sorry — I couldn't answer that just now. Please try again in a little while." };
/** For a message the model refused as longer than it reads: trying again later would not help. */
const TOO_LONG: Reply = { kind: 'apology', text: 'Sorry — that message is longer than I can read at once. Could you send a shorter one?' };

/** The apology that fits why the message was given up. */
function apologyFor(failure: unknown): Reply {
  return failure instanceof PermanentError && failure.reason === 'ai_input_too_long' ? TOO_LONG : APOLOGY;
}

/**
 * A job the queue gave up on without running it (its workers kept dying under it): counted as
 * dead, and the user gets the one apology unless the message was answered before.
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
  deps.metrics.deadLettered.inc({ platform: conversation.platform, reason });
  const logger = deps.logger.child({ job: job.id, platform: conversation.platform, conversation: conversation.id });
  logger.warn({ reason }, 'message given up by the queue without being answered');
  if (data.type !== 'message') return;
  const answered = (await deps.store.get(keys.sent(job.id, 1))) !== undefined;
  if (!answered) await apologiseOnce(deps, job.id, data.message, logger);
}

/**
 * Post the apology (the one that fits `failure`, why the message was given up), once per job
 * whatever retries and processes do.
 * The message goes into the conversation log as apologised, with how long the person waited.
 */
export async function apologiseOnce(deps: WorkerDeps, jobId: string, message: InboundMessage, logger: Logger, failure?: unknown): Promise<void> {
  const conversation = message.conversation;
  const apology = apologyFor(failure);
  let claimed = false;
  let posted: string | undefined;
  try {
    claimed = await deps.store.setIfAbsent(keys.apology(jobId), '1', MARKER_TTL_MS);
    if (!claimed) return;
    const adapter = deps.adapterFor(conversation.platform);
    if (adapter) await postReply(adapter, conversation, apology, { markers: deps.store, logger });
    if (adapter) posted = apology.text;
    deps.metrics.repliesSent.inc({ platform: conversation.platform, kind: 'apology' });
  } catch (error) {
    // The platform refused it for now (a 5xx, a 429 longer than is waited out in place): posted by a
    // job of its own, which the queue retries, rather than lost. A refusal for good is only logged:
    // the message itself is dead-lettered with everything needed to replay it.
    if (claimed && !(error instanceof PermanentError) && deps.queueNotice) {
      const queued = await deps.queueNotice(`apology.${jobId}`, conversation, apology).then(
        () => true,
        (queueError: unknown) => (logger.error({ err: queueError }, 'could not queue the apology either'), false),
      );
      if (queued) logger.warn({ err: error }, 'could not post the apology; queued to be posted again');
    } else logger.error({ err: error }, 'could not post the apology');
  }
  // claimed here only: another run or process logs it otherwise
  if (claimed) await recordApology(deps.conversationLog, message, posted, logger);
}
