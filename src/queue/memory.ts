import { ErrorCode, HttpError, ParleyError, sameKind } from '../errors.js';
import type { RetryAfterError } from '../adapter.js';
import { deferralDelayMs, errorText, isDeferral, isPermanent, retryDelayMs } from './backoff.js';
import { oldestFirst, type DeadLetter, type Forgotten, type Job, type JobHandler, type JobQueue, type NewJob, type QueueCounts, type RetryOptions } from './queue.js';

export class QueueClosedError extends ParleyError {
  static override [Symbol.hasInstance] = sameKind(QueueClosedError, (e) => e.code === ErrorCode.QueueClosed);
  constructor() {
    super(ErrorCode.QueueClosed, 'the queue is shutting down and takes no new jobs');
    this.name = 'QueueClosedError';
  }
}

/**
 * The in-process queue holds as many jobs as it was allowed (QUEUE_MAX_MESSAGES): a flood beyond
 * what the AI can answer would otherwise grow the heap until the process dies, and every message
 * queued with it. A 503 the platform redelivers (Slack, Intercom), logged as a summarised warning.
 */
export class QueueFullError extends HttpError {
  constructor(readonly maxJobs: number) {
    super(503, 'queue_full', 'Too many messages are waiting to be answered: this one was not taken. Please send it again in a minute.');
    this.name = 'QueueFullError';
  }
}

/** Runs remembered for the drain's estimate: enough to catch a slow answer, few enough to follow a change. */
const RECENT_RUNS = 20;
/**
 * During the drain a waiting job starts only if the time left is at least this many times the
 * longest recent run: the margin covers an answer a little slower than any seen.
 */
const DRAIN_MARGIN = 1.5;

/**
 * The default queue: in this process, with the same semantics as the Redis one — per-group
 * order, retries with backoff and jitter, dead letters, graceful drain. Each group keeps its
 * own FIFO; a group whose head is runnable waits in `ready` for a free slot, so one busy
 * conversation never blocks the others.
 */
export class MemoryQueue<T> implements JobQueue<T> {
  readonly volatile = true;
  private readonly groups = new Map<string, Job<T>[]>();
  private readonly ready: string[] = [];
  private readonly ids = new Set<string>();
  /** Jobs run at least once (and not finished): the others, left at close, were never started. */
  private readonly started = new Set<string>();
  /** The groups whose head is running now. */
  private readonly runningGroups = new Set<string>();
  private readonly dead = new Map<string, DeadLetter<T>>();
  /** Each deferred job's timer, and when it is due again: close() does not wait for one due past its deadline. */
  private readonly dueAt = new Map<NodeJS.Timeout, number>();
  private closingUntil = Infinity;
  /** How long the last RECENT_RUNS runs took, newest last: what the drain expects of the next one. */
  private readonly recentRunsMs: number[] = [];
  private handler?: JobHandler<T>;
  private concurrency = 1;
  private active = 0;
  private delayed = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  /** `maxJobs`: the most jobs held at once, waiting, running or waiting to retry (0: no limit). */
  constructor(
    private readonly retry: RetryOptions,
    private readonly limits: { maxJobs?: number } = {},
  ) {}

  async add(job: NewJob<T>): Promise<boolean> {
    if (this.closed) throw new QueueClosedError();
    if (this.ids.has(job.id)) return false;
    const { maxJobs = 0 } = this.limits;
    if (maxJobs > 0 && this.ids.size >= maxJobs) throw new QueueFullError(maxJobs);
    this.ids.add(job.id);
    const queued: Job<T> = { ...job, attempt: 1, maxAttempts: this.retry.attempts };
    const list = this.groups.get(job.group);
    if (list) list.push(queued);
    else {
      this.groups.set(job.group, [queued]);
      this.ready.push(job.group);
    }
    this.pump();
    return true;
  }

  process(handler: JobHandler<T>, options: { concurrency: number }): void {
    this.handler = handler;
    this.concurrency = Math.max(1, options.concurrency);
    this.pump();
  }

  async deadLetters(): Promise<DeadLetter<T>[]> {
    return oldestFirst([...this.dead.values()]);
  }

  async addDeadLetter(letter: DeadLetter<T>): Promise<void> {
    this.dead.set(letter.id, letter);
  }

  async replay(id: string): Promise<boolean> {
    const letter = this.dead.get(id);
    if (!letter) return false;
    // Queue first, forget second: if the queue refuses (closed), the dead letter stays.
    await this.add({ id: letter.id, group: letter.group, data: letter.data });
    this.dead.delete(id);
    return true;
  }

  async dropDeadLetter(id: string): Promise<boolean> {
    return this.dead.delete(id);
  }

  async purge(): Promise<number> {
    const count = this.dead.size;
    this.dead.clear();
    return count;
  }

  /** Finished jobs are not kept here, dead letters aside. */
  async forget(ids: string[]): Promise<Forgotten> {
    const forgotten: Forgotten = { removed: 0, unfinished: 0 };
    for (const id of ids) {
      if (this.dead.delete(id)) forgotten.removed++;
      else if (this.ids.has(id)) forgotten.unfinished++;
    }
    return forgotten;
  }

  async counts(): Promise<QueueCounts> {
    let queued = 0;
    for (const list of this.groups.values()) queued += list.length;
    return { waiting: queued - this.active - this.delayed, active: this.active, delayed: this.delayed, dead: this.dead.size };
  }

  async ping(): Promise<void> {
    if (this.closed) throw new QueueClosedError();
  }

  async close(deadlineMs: number): Promise<{ unfinished: number }> {
    this.closed = true;
    if (!this.handler) return { unfinished: this.ids.size };
    this.closingUntil = Date.now() + deadlineMs;
    const drained = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.notifyIfIdle();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
    await Promise.race([drained, deadline]);
    clearTimeout(timer);
    for (const t of this.dueAt.keys()) clearTimeout(t);
    this.dueAt.clear();
    this.delayed = 0;
    return { unfinished: this.ids.size };
  }

  unfinishedJobs(): Job<T>[] {
    return [...this.groups.values()].flat();
  }

  /** Not those behind a job still running (close() ended at its deadline): its answer may yet come, after their apology. */
  neverStartedJobs(): Job<T>[] {
    return this.unfinishedJobs().filter((job) => !this.started.has(job.id) && !this.runningGroups.has(job.group));
  }

  /**
   * Closing, a job starts only while there is clearly time to finish it. Unlike BullMQ's close,
   * which starts nothing more (the next process takes what waits in Redis), a job not started here
   * is lost with the process: so it is started if the slowest recent run fits, with a margin, in
   * what is left of SHUTDOWN_TIMEOUT_MS, and not otherwise, as it would most likely be cut short
   * at the deadline after its AI call was paid for, its answer never sent.
   */
  private pump(): void {
    if (!this.handler || (this.closed && !this.startsInTime(Date.now()))) return;
    while (this.active < this.concurrency && this.ready.length > 0) {
      const group = this.ready.shift() as string;
      const job = this.groups.get(group)?.[0];
      if (job) void this.run(job, this.handler);
    }
  }

  private async run(job: Job<T>, handler: JobHandler<T>): Promise<void> {
    this.active++;
    const startedAt = Date.now();
    this.started.add(job.id);
    this.runningGroups.add(job.group);
    try {
      await handler(job);
      this.finish(job);
    } catch (error) {
      if (isPermanent(error)) this.bury(job, error, error.reason);
      else if (isDeferral(error)) this.retryLater(job, error, false);
      else if (job.attempt >= job.maxAttempts) this.bury(job, error, 'attempts_exhausted');
      else this.retryLater(job, error, true);
    } finally {
      this.runningGroups.delete(job.group);
      this.recentRunsMs.push(Date.now() - startedAt);
      if (this.recentRunsMs.length > RECENT_RUNS) this.recentRunsMs.shift();
      this.active--;
      this.pump();
      this.notifyIfIdle();
    }
  }

  /** A deferral (a rate limit said "later") waits without spending one of the job's attempts. */
  private retryLater(job: Job<T>, error: unknown, spendAttempt: boolean): void {
    // A deferral waits as long as it was asked, as in the Redis queue; a failure backs off.
    const delay = spendAttempt ? retryDelayMs(job.attempt, this.retry, error) : deferralDelayMs(error as RetryAfterError);
    // Closing, a try that could not start in time never comes: the job is unfinished (in memory,
    // lost), and no timer keeps a script that closed its bot alive.
    if (this.closed && !this.startsInTime(Date.now() + delay)) return;
    if (spendAttempt) job.attempt++;
    this.delayed++;
    // The group stays out of `ready` meanwhile: later messages of it must not overtake this one.
    const timer = setTimeout(() => {
      this.dueAt.delete(timer);
      this.delayed--;
      this.ready.push(job.group);
      this.pump();
      this.notifyIfIdle(); // closing, it may not start after all: a slower run has been seen since
    }, delay);
    this.dueAt.set(timer, Date.now() + delay);
  }

  private bury(job: Job<T>, error: unknown, reason: string): void {
    this.dead.set(job.id, {
      id: job.id,
      group: job.group,
      data: job.data,
      error: errorText(error),
      reason,
      attempts: job.attempt,
      failedAt: new Date().toISOString(),
    });
    this.finish(job);
  }

  /** Take the job off its group and let the group's next job (if any) queue for a slot. */
  private finish(job: Job<T>): void {
    this.ids.delete(job.id);
    this.started.delete(job.id);
    const list = this.groups.get(job.group);
    list?.shift();
    if (list && list.length > 0) this.ready.push(job.group);
    else this.groups.delete(job.group);
  }

  /**
   * Idle: nothing left to run — or, closing, nothing running and nothing left that would start in
   * time (a job deferred past the deadline, by a Retry-After of a minute; a waiting one there is no
   * longer time for), so close() does not wait the whole SHUTDOWN_TIMEOUT_MS for it; it is counted
   * unfinished (in memory, lost).
   */
  private notifyIfIdle(): void {
    if (this.ids.size > 0 && !this.nothingMoreStarts()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Whether a job started at `at` would, by the longest of the recent runs, end well before the deadline. */
  private startsInTime(at: number): boolean {
    const expectedMs = Math.max(0, ...this.recentRunsMs) * DRAIN_MARGIN;
    return at < this.closingUntil && at + expectedMs <= this.closingUntil;
  }

  private nothingMoreStarts(): boolean {
    if (this.closingUntil === Infinity || this.active > 0) return false;
    if (this.ready.length > 0 && this.startsInTime(Date.now())) return false;
    for (const due of this.dueAt.values()) if (this.startsInTime(due)) return false;
    return true;
  }
}
