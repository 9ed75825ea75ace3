/**
 * What a shutdown leaves unanswered in this process's memory: the in-process queue's jobs and the
 * answers this process gives itself (direct mode, a message the queue could not take). Each was
 * acknowledged to its platform, which will not send it again, so it is lost: named at error, by
 * ids only (message text never reaches a log line above debug), for someone to follow up.
 */
import type { Logger } from 'pino';
import { messageJobId, type JobData } from './jobs.js';
import type { InboundMessage } from './message.js';
import type { JobQueue } from './queue/index.js';

export interface LostMessage {
  /** The job id (`slack.Ev…`, `whatsapp.SM…`): the platform's delivery id. */
  job: string;
  platform: string;
  conversation: string;
  /** Never started: waiting in the in-process queue, the drain having too little time left to answer it. */
  notStarted?: true;
  /** Sent the apology before the process ended (a message the drain had no time to start). */
  apologised?: true;
  /** Not a person's message but a notice to post (a rate-limit warning `notice.…`, a queued apology `apology.…`). */
  notice?: true;
}

/** Ids per log line: a queue of thousands stays readable, and within what log shippers take in one line. */
const IDS_PER_LINE = 100;

/** The messages answered in this process, each counted until its work settles (shutdown waits for them). */
export class AnsweringHere {
  private readonly work = new Map<Promise<unknown>, LostMessage | undefined>();

  /** `message`: what `work` answers, named if shutdown cannot wait for it. */
  track(work: Promise<unknown>, message?: InboundMessage): Promise<unknown> {
    const tracked = work.finally(() => this.work.delete(tracked));
    this.work.set(tracked, message && describeMessage(message));
    return tracked;
  }

  /** How many messages are still being answered here (an answer and its reply posted instead count once). */
  get size(): number {
    const anonymous = [...this.work.values()].filter((message) => !message).length;
    return this.unfinished().length + anonymous;
  }

  /** Settles once nothing is being answered here, work started meanwhile included. */
  async settled(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled(this.work.keys());
  }

  /** What is still being answered here, once per message (its answer and a reply posted instead are one). */
  unfinished(): LostMessage[] {
    const byJob = new Map<string, LostMessage>();
    for (const message of this.work.values()) if (message) byJob.set(message.job, message);
    return [...byJob.values()];
  }
}

function describeMessage(message: InboundMessage): LostMessage {
  return { job: messageJobId(message), platform: message.platform, conversation: message.conversation.id };
}

/** A queued job's ids: a message's, or a notice's (a rate-limit warning, a queued apology), marked as one. */
function describeJob(job: { id: string; data: unknown }): LostMessage {
  const data = job.data as JobData | undefined;
  if (data?.type === 'message') return describeMessage(data.message);
  if (data?.type === 'notice') return { job: job.id, platform: data.conversation.platform, conversation: data.conversation.id, notice: true };
  return { job: job.id, platform: 'unknown', conversation: 'unknown' };
}

/**
 * What would be lost if the process ended now: a volatile queue's jobs (a Redis queue keeps its own)
 * and the answers given here; those never started marked `notStarted`, those in `apologised` (the
 * shutdown's apology pass posted to them) marked so.
 */
export function lostOnExit(queue: JobQueue<unknown>, here: AnsweringHere, apologised?: ReadonlySet<string>): LostMessage[] {
  const notStarted = new Set(queue.volatile ? (queue.neverStartedJobs?.() ?? []).map((job) => job.id) : []);
  const queued = queue.volatile
    ? (queue.unfinishedJobs?.() ?? []).map((job) => (notStarted.has(job.id) ? { ...describeJob(job), notStarted: true as const } : describeJob(job)))
    : [];
  const seen = new Set(queued.map((lost) => lost.job));
  const lost = [...queued, ...here.unfinished().filter((message) => !seen.has(message.job))];
  return apologised?.size ? lost.map((message) => (apologised.has(message.job) ? { ...message, apologised: true as const } : message)) : lost;
}

/**
 * Why the drain (SHUTDOWN_TIMEOUT_MS) left them: not started, as too little of it was left (the drain
 * may end with seconds to spare), or still under way when it ended (running at the deadline, waiting
 * for a retry due past it, or behind one of their conversation still running).
 */
function drainLeft(lost: LostMessage[], notStarted: number): string {
  const tooLittle = 'not started, too little of SHUTDOWN_TIMEOUT_MS left to answer them';
  const underWay = 'still running (or waiting for a retry or their turn) when the drain ended';
  if (notStarted === lost.length) return tooLittle;
  if (notStarted === 0) return underWay;
  return `${notStarted} ${tooLittle}; ${lost.length - notStarted} ${underWay}`;
}

/**
 * One error line per hundred lost jobs, each with the totals: `lost` counts people's messages,
 * `notices` what the bot itself had yet to post (each marked `notice: true`), told apart in the text,
 * `notStarted` the jobs the drain did not start (each marked so). `why`: the drain ended
 * (`timeoutMs`), or the process exits without waiting for it (`exit`: a second Ctrl-C, the CLI's backstop).
 */
export function logLost(logger: Logger, lost: LostMessage[], why: { timeoutMs: number } | { exit: string }): void {
  const notStarted = lost.filter((job) => job.notStarted).length;
  const when = 'timeoutMs' in why ? `are lost: ${drainLeft(lost, notStarted)}` : `before exiting (${why.exit}) are lost`;
  const notices = lost.filter((job) => job.notice).length;
  const messages = lost.length - notices;
  const apologised = lost.filter((message) => message.apologised).length;
  const what = [
    ...(messages > 0 ? [`${messages} message(s) not answered`] : []),
    ...(notices > 0 ? [`${notices} notice(s) not posted (rate-limit warnings, queued apologies: not messages)`] : []),
  ].join(' and ');
  const told = apologised > 0 ? `; ${apologised} of them sent the apology` : '';
  const gone = messages > 0 ? `; their platform will not send the messages again${told}` : '';
  for (let i = 0; i < lost.length; i += IDS_PER_LINE) {
    logger.error(
      { lost: messages, ...(notices > 0 ? { notices } : {}), ...(notStarted > 0 ? { notStarted } : {}), ...(apologised > 0 ? { apologised } : {}), messages: lost.slice(i, i + IDS_PER_LINE), ...why },
      `shutdown: ${what} ${when} (held only in this process's memory${gone})`,
    );
  }
}
