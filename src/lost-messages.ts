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
  /** Sent the apology before the process ended (a message the drain had no time to start). */
  apologised?: true;
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

/** A queued job's ids: a message's, or a notice's (a rate-limit warning) conversation. */
function describeJob(job: { id: string; data: unknown }): LostMessage {
  const data = job.data as JobData | undefined;
  if (data?.type === 'message') return describeMessage(data.message);
  if (data?.type === 'notice') return { job: job.id, platform: data.conversation.platform, conversation: data.conversation.id };
  return { job: job.id, platform: 'unknown', conversation: 'unknown' };
}

/** What would be lost if the process ended now: a volatile queue's jobs (a Redis queue keeps its own) and the answers given here. */
export function lostOnExit(queue: JobQueue<unknown>, here: AnsweringHere): LostMessage[] {
  const queued = queue.volatile ? (queue.unfinishedJobs?.() ?? []).map(describeJob) : [];
  const seen = new Set(queued.map((lost) => lost.job));
  return [...queued, ...here.unfinished().filter((lost) => !seen.has(lost.job))];
}

/**
 * One error line per hundred lost messages, each with the total. `why`: the drain ran out of time
 * (`timeoutMs`), or the process exits without waiting for it (`exit`: a second Ctrl-C, the CLI's backstop).
 */
export function logLost(logger: Logger, lost: LostMessage[], why: { timeoutMs: number } | { exit: string }): void {
  const when = 'timeoutMs' in why ? 'within SHUTDOWN_TIMEOUT_MS' : `before exiting (${why.exit})`;
  const apologised = lost.filter((message) => message.apologised).length;
  const told = apologised > 0 ? `; ${apologised} of them sent the apology` : '';
  for (let i = 0; i < lost.length; i += IDS_PER_LINE) {
    logger.error(
      { lost: lost.length, ...(apologised > 0 ? { apologised } : {}), messages: lost.slice(i, i + IDS_PER_LINE), ...why },
      `shutdown: ${lost.length} message(s) not answered ${when} are lost (held only in this process's memory; their platform will not send them again${told})`,
    );
  }
}
