import type { Logger } from 'pino';
import type { Store } from '../store/index.js';

/**
 * The job queue contract. The in-process queue is the default; a BullMQ queue implements the
 * same interface for several processes. Jobs of one group (a conversation) run one at a time,
 * in the order they were added; different groups run in parallel up to the concurrency.
 */
export interface NewJob<T> {
  /** Unique: adding an id that is already queued is a no-op (the dedupe key). */
  id: string;
  /** Jobs sharing a group are processed one at a time, in order. */
  group: string;
  data: T;
  /**
   * Run it no sooner than this many ms from now (BullMQ: a delayed job). A queue that cannot delay
   * a single job (SQS FIFO, in memory) runs it as soon as it can.
   */
  delayMs?: number;
}

export interface Job<T> extends NewJob<T> {
  /** 1 on the first try. */
  attempt: number;
  maxAttempts: number;
  /**
   * The broker handed this job out before although `attempt` says first try (BullMQ: a stalled
   * job; SQS: a message received again, its delete lost): an earlier run may have answered it.
   */
  redelivered?: boolean;
  /**
   * False once the queue's hold on the job has run out (SQS polling: its visibility could not be
   * renewed in time), so another worker may be running it: the worker posts nothing more of it.
   */
  stillHeld?(): boolean;
}

export interface DeadLetter<T> extends NewJob<T> {
  error: string;
  /** Why it was given up: "attempts_exhausted", or a PermanentError's reason. */
  reason: string;
  /** Absent when not known (a job SQS moved to its dead-letter queue itself, its count not at hand). */
  attempts?: number;
  failedAt: string;
  /**
   * The letter was cut to fit its queue's message size (SQS's 1 MiB): `data` holds only the start
   * of the message (or of the job's data as JSON), to read; it cannot be replayed.
   */
  truncated?: boolean;
}

export interface Forgotten {
  removed: number;
  /** Still waiting or running, so left in the queue. */
  unfinished: number;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  dead: number;
}

export type JobHandler<T> = (job: Job<T>) => Promise<void>;

export interface ProcessOptions<T = unknown> {
  concurrency: number;
  /**
   * The bot's worker store, for a queue that keeps per-job state outside its broker (the SQS
   * queue counts attempts there, since SQS receive counts also count deferrals).
   */
  store?: Store;
  /**
   * Told of work the queue does beside the jobs that fails and is tried again (Redis: the intake
   * pump; SQS: a receive, or a message whose outcome could not be recorded).
   */
  logger?: Pick<Logger, 'warn' | 'error'>;
  /**
   * Told of a job the queue gave up on without running the handler (BullMQ: its workers died
   * under it more often than it allows), so the user still hears that it failed.
   */
  onAbandoned?(job: Job<T>, reason: string): Promise<void>;
  /**
   * Told of a message the queue dead-lettered itself, never a job for the handler (SQS: a body that
   * is no parley envelope), once it is moved: counted in parley_dead_lettered_total as the handler's are.
   */
  onDeadLettered?(data: T, reason: string): void;
  /**
   * What is wrong with a job's data that is not a job the bot queued (a hand-sent one), or
   * undefined. Such a job goes to the handler whatever the queue's own bookkeeping says (a job
   * BullMQ got by hand holds no turnstile ticket), so the handler's check dead-letters it, saying why.
   */
  invalid?(data: T): string | undefined;
}

/** Dead letters sorted by when they failed, oldest first (ISO times compare as strings). */
export function oldestFirst<T>(letters: DeadLetter<T>[]): DeadLetter<T>[] {
  return letters.sort((a, b) => (a.failedAt < b.failedAt ? -1 : a.failedAt > b.failedAt ? 1 : 0));
}

/** How many conversations' dead letters `replayEvery` replays at once. */
const REPLAY_CONVERSATIONS_AT_ONCE = 16;

/**
 * Replay every dead letter of a queue, oldest first: in one pass where the queue has one (`replayAll`).
 * `keep`: which letters to replay (default all); the others stay in the dead letters. A group's
 * (conversation's) letters are replayed one after another, oldest first, so they queue in order;
 * several groups at once, since one at a time took a minute for a day's outage of 3,000 on Redis
 * (a few round trips each), longer than a proxy in front of the console waits.
 */
export async function replayEvery<T>(queue: Pick<JobQueue<T>, 'deadLetters' | 'replay' | 'replayAll'>, keep: (letter: DeadLetter<T>) => boolean = () => true): Promise<number> {
  if (queue.replayAll) return queue.replayAll(keep);
  const groups = new Map<string, DeadLetter<T>[]>();
  for (const letter of await queue.deadLetters()) {
    if (!keep(letter)) continue;
    const group = groups.get(letter.group);
    if (group) group.push(letter);
    else groups.set(letter.group, [letter]);
  }
  const waiting = [...groups.values()];
  let replayed = 0;
  // A replay that fails (Redis gone, the queue closed) ends the pass, as it did one letter at a time: the
  // others start no more, and the caller hears of it once those under way have ended (it may close the queue).
  let failed = false;
  const replayGroups = async () => {
    for (let letters = waiting.shift(); letters && !failed; letters = waiting.shift()) {
      for (const letter of letters) {
        if (failed) return;
        try {
          if (await queue.replay(letter.id)) replayed++;
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    }
  };
  const ends = await Promise.allSettled(Array.from({ length: Math.min(REPLAY_CONVERSATIONS_AT_ONCE, waiting.length) }, replayGroups));
  const failure = ends.find((end): end is PromiseRejectedResult => end.status === 'rejected');
  if (failure) throw failure.reason;
  return replayed;
}

/** A limit a queue checks at its door: `points` messages per `durationSeconds` for one subject. */
export interface AdmissionLimit {
  /** Which limit ("user", "conversation", "tenant"): part of its counter's key. */
  name: string;
  subject: string;
  points: number;
  durationSeconds: number;
}

/** What a queue that can checks before taking a message, in the same round trip as the add. */
export interface Admission {
  /** The delivery's dedupe claim (kept under the queue's own keys), held this long: a second delivery is a duplicate. */
  claim: string;
  claimTtlMs: number;
  /** Checked in order; the first one over refuses the message. */
  limits: AdmissionLimit[];
  /**
   * A key on the queue's own server that must exist, checked before anything else: without it the
   * message is ignored (no claim, no limit counted, nothing queued). See InboundMessage.onlyIfStored.
   */
  requires?: string;
  /** A key on the queue's own server set (for `ttlMs`) when the job gets its ticket. See InboundMessage.marks. */
  marks?: { key: string; ttlMs: number };
  /**
   * Over a limit, the job (this id, in the job's group) that tells the conversation so, queued in
   * the same step as the refusal, at most once per window of that limit: nothing then hangs on the
   * caller hearing the verdict (a step that timed out and was carried out after all still queues
   * it). A queue that can (BullQueue with its `noticeOf`) says so in its verdict (`noticed`).
   */
  notice?: { id: string };
}

/** A refused job's notice (Admission.notice): its data, for the `limit` that refused it, `seconds` before that limit's window ends; undefined for none. */
export type NoticeOf<T> = (refused: T, limit: string, seconds: number) => T | undefined;

export type Admitted =
  | { outcome: 'queued' }
  | { outcome: 'duplicate' }
  | { outcome: 'ignored' }
  /**
   * `noticed`: whether the Admission's notice was queued in this step (false: one was, earlier in the
   * window); absent from a queue that queues none, whose caller queues its own.
   */
  | { outcome: 'limited'; limit: AdmissionLimit; retryAfterMs: number; noticed?: boolean };

export interface JobQueue<T> {
  /** True when its jobs are lost when the process ends (the in-process queue). */
  readonly volatile?: boolean;
  /** True when it waits out NewJob.delayMs (BullMQ); one that runs a delayed job at once (SQS, memory) leaves it out. */
  readonly delays?: boolean;
  /** Enqueue; false when a job with this id is already queued. Throws when the queue cannot take it. */
  add(job: NewJob<T>): Promise<boolean>;
  /**
   * Dedupe, limits and enqueue at once (a queue on Redis: one round trip). The claim is released
   * when the job could not be queued, so the platform's redelivery is taken. Throws then.
   */
  admit?(job: NewJob<T>, admission: Admission): Promise<Admitted>;
  /** Start working: at most `concurrency` jobs at once. */
  process(handler: JobHandler<T>, options: ProcessOptions<T>): void;
  /** Oldest failure first (see `oldestFirst`): replaying them in this order keeps each conversation's order. */
  deadLetters(): Promise<DeadLetter<T>[]>;
  /** Replay every dead letter, oldest first; for a queue whose listing is costly (SQS), in one pass. Absent: one `replay` each. */
  replayAll?(keep?: (letter: DeadLetter<T>) => boolean): Promise<number>;
  /** Record a failure that happened outside a worker (direct mode), so it can be replayed. */
  addDeadLetter(letter: DeadLetter<T>): Promise<void>;
  /** Move a dead letter back into the queue with fresh attempts; false when there is no such id. */
  replay(id: string): Promise<boolean>;
  /**
   * Remove one dead letter without replaying it (one that can never run, `invalid_job`); false when
   * there is no such id. Optional, so a queue written before it still compiles; parley's all have it.
   */
  dropDeadLetter?(id: string): Promise<boolean>;
  /** Drop every dead letter; returns how many were dropped. */
  purge(): Promise<number>;
  /**
   * Remove these jobs where they are finished (answered and kept, or dead letters): a deleted
   * conversation's messages must not outlive it there. A job still waiting or running is left.
   */
  forget?(ids: string[]): Promise<Forgotten>;
  counts(): Promise<QueueCounts>;
  ping(): Promise<void>;
  /** Stop taking jobs, let the running (and, in memory, the waiting ones there is time for) finish until the deadline. */
  close(deadlineMs: number): Promise<{ unfinished: number }>;
  /** A volatile queue's jobs not yet finished (waiting, running, waiting to retry): after close(), those lost with the process. */
  unfinishedJobs?(): NewJob<T>[];
  /** Of those, the ones never started: after close(), what its drain left waiting. */
  neverStartedJobs?(): NewJob<T>[];
  /**
   * After close() missed its deadline (Redis unreachable): drop every connection and timer at once,
   * without waiting for an answer, so nothing keeps the process alive.
   */
  drop?(): void;
}

export interface RetryOptions {
  /** Total tries, the first included. */
  attempts: number;
  /** First retry delay; doubles each time, with jitter. */
  backoffMs: number;
  maxBackoffMs: number;
}
