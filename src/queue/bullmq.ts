/**
 * The Redis queue, on BullMQ: durable jobs, retries with backoff and jitter, the failed set as the
 * dead letters, stalled jobs recovered when a worker dies. BullMQ has no per-group ordering in its
 * open-source edition, so a turnstile (one sorted set per conversation, see turnstile.ts) makes
 * the jobs of one conversation run in the order they arrived, across every worker process. Acks
 * go through the intake (intake.ts): one script, and the workers move the jobs into BullMQ.
 */
import type { Queue, Worker, Job as BullJob } from 'bullmq';
import { bullmqPackage } from '../redis-packages.js';
import { connectRedis, queuePrefix, whyNotConnected, type RedisClient as Redis } from '../store/redis-connection.js';
import { READY_PROBE_TTL_MS, readyProbe } from '../store/redis.js';
import { deferralDelayMs, errorText, isDeferral, isPermanent, retryDelayMs } from './backoff.js';
import type { Admission, Admitted, DeadLetter, Forgotten, JobHandler, JobQueue, NewJob, ProcessOptions, QueueCounts } from './queue.js';
import { BullDeadLetters, isStored, retryFailed, type Stored } from './bullmq-dead-letters.js';
import { removeFinished } from './bullmq-forget.js';
import { dropAll } from './bullmq-drop.js';
import { BullLine } from './bullmq-line.js';
import { withoutEvictionWarning } from './bullmq-eviction-warning.js';
import { drainWithin } from './bullmq-idle.js';
import { withoutUnheardStartErrors } from './bullmq-cut-start.js';
import { pumpErrorLog } from './pump-errors.js';
import { IntakeDoor, IntakePump } from './intake.js';
import { Turnstile } from './turnstile.js';
import type { BullQueueOptions } from './bullmq-options.js';

export type { BullQueueOptions };

const DIRECT_DEAD = 'dead-direct';
const TURN_RECHECK_MS = 2000;
const KEEP_QUEUED_AT_LEAST = 16;

export class BullQueue<T> implements JobQueue<T> {
  readonly delays = true;
  /** Opened on first use: constructing a queue does no I/O. */
  private opened?: { producer: Redis; queue: Queue; turnstile: Turnstile; letters: BullDeadLetters<T> };
  private door?: IntakeDoor;
  private worker?: Worker;
  private workerConnection?: Redis;
  /** The worker's view of the turnstile and the jobs: on its own connection, which waits out an outage. */
  private workerTurnstile?: Turnstile;
  private line?: BullLine;
  private lookup?: Queue;
  private pump?: IntakePump<Stored<T>>;
  private running = 0; // jobs this process runs now (BullMQ's active count is every worker's)
  private readonly prefix: string;
  private readonly name: string;
  private readonly intakeKey: string;
  /** BullMQ's options for every job (each gets its own id). */
  private readonly jobOptions: Record<string, unknown>;

  constructor(private readonly options: BullQueueOptions<T>) {
    this.prefix = queuePrefix(options.url, options.prefix ?? 'parley');
    this.name = options.name ?? 'messages';
    this.intakeKey = `${this.prefix}:intake`;
    this.jobOptions = { attempts: options.retry.attempts, backoff: { type: 'parley' }, removeOnComplete: { age: 24 * 3600, count: 10_000 }, removeOnFail: false };
  }

  private get connection() {
    if (this.opened) return this.opened;
    // The producer fails fast while Redis is down, so a caller can answer 503 at once. Auto-pipelining
    // sends the commands one add issues together in one write: one round trip (see enter()).
    const producer = connectRedis(this.options.url, { enableAutoPipelining: true });
    producer.on('error', () => undefined); // reported through ping() and add() failures
    const queue = withoutUnheardStartErrors(new (bullmqPackage().Queue)(this.name, { connection: producer, prefix: this.prefix }));
    queue.on('error', () => undefined);
    withoutEvictionWarning(queue.waitUntilReady());
    const letters = new BullDeadLetters<T>(queue, producer, this.key(DIRECT_DEAD));
    this.opened = { producer, queue, turnstile: new Turnstile(producer, `${this.prefix}:turn`), letters };
    return this.opened;
  }

  private get queue(): Queue { return this.connection.queue; }
  private get turnstile(): Turnstile { return this.connection.turnstile; }

  async add(job: NewJob<T>): Promise<boolean> {
    // Two producers adding one id at once (a redelivery racing the original): one adds it.
    const admitted = await this.enter(job, { claim: `adding:${job.id}`, claimTtlMs: 60_000, limits: [] });
    return admitted.outcome === 'queued';
  }

  /**
   * The ack: one script (claim, limits, ticket) that also leaves the job in the intake stream, one
   * round trip, nothing else; the workers' intake pumps move it into BullMQ (see intake.ts).
   */
  admit(job: NewJob<T>, admission: Admission): Promise<Admitted> {
    this.door ??= new IntakeDoor(this.options.url, `${this.prefix}:turn`, this.intakeKey);
    return this.door.admit(job, admission, this.options.noticeOf !== undefined);
  }

  /**
   * Straight into BullMQ, in one round trip: the turnstile's script (claim, limits, ticket) and
   * BullMQ's add leave in one pipeline, the script first. The add goes out whatever the verdict —
   * waiting for it would cost a second round trip — and BullMQ drops it when the id is already
   * queued; a job the script refused holds no ticket, and the worker drops it unanswered (see run()).
   */
  private async enter(job: NewJob<T>, admission: Admission): Promise<Admitted> {
    await this.queue.waitUntilReady();
    const verdict = this.turnstile.admit(job, admission);
    const stored: Stored<T> = { group: job.group, data: job.data };
    const added = this.queue.add('message', stored, { ...this.jobOptions, jobId: job.id, ...(job.delayMs ? { delay: job.delayMs } : {}) });
    const [admitted, enqueued] = await Promise.allSettled([verdict, added]);
    if (admitted.status === 'fulfilled' && enqueued.status === 'fulfilled') return admitted.value;
    if (admitted.status === 'fulfilled' && admitted.value.outcome !== 'queued') return admitted.value;
    // Not queued: give the claim and the ticket back, so the platform's redelivery is taken.
    if (admitted.status === 'fulfilled') await this.turnstile.withdraw(job, admission).catch(() => undefined);
    throw admitted.status === 'rejected' ? admitted.reason : (enqueued as PromiseRejectedResult).reason;
  }

  process(handler: JobHandler<T>, options: ProcessOptions<T>): void {
    // Not auto-pipelined: each flush would build an ioredis Pipeline, which copies every one of
    // BullMQ's scripts onto itself; that cost more CPU than the writes it saved (measured).
    const connection = connectRedis(this.options.url, { enableOfflineQueue: true, maxRetriesPerRequest: null });
    connection.on('error', () => undefined);
    this.workerConnection = connection;
    this.workerTurnstile = new Turnstile(connection, `${this.prefix}:turn`);
    this.lookup = withoutUnheardStartErrors(new (bullmqPackage().Queue)(this.name, { connection, prefix: this.prefix }));
    this.lookup.on('error', () => undefined);
    this.line = new BullLine(this.workerTurnstile, this.lookup, this.options.lockDurationMs);
    connection.on('ready', () => void this.line?.retakeTurns()); // Redis may have come back empty
    const run = (job: BullJob<Stored<T>>, token?: string) => (this.running++, this.run(job, token, handler, options.invalid).finally(() => this.running--));
    this.worker = withoutUnheardStartErrors(new (bullmqPackage().Worker)(this.name, (job, token) => run(job as BullJob<Stored<T>>, token), {
      connection,
      prefix: this.prefix,
      concurrency: Math.max(1, options.concurrency),
      lockDuration: this.options.lockDurationMs,
      stalledInterval: Math.min(30_000, this.options.lockDurationMs),
      settings: { backoffStrategy: (attemptsMade: number, _type?: string, error?: Error) => retryDelayMs(attemptsMade, this.options.retry, error) },
    }));
    this.worker.on('error', () => undefined); // connection errors: the worker reconnects by itself
    withoutEvictionWarning(Promise.all([this.lookup.waitUntilReady(), this.worker.waitUntilReady()]));
    this.worker.on('failed', (job, error) => void this.failedForGood(job as BullJob<Stored<T>> | undefined, error, options));
    // Every worker process moves admitted jobs from the intake into BullMQ.
    this.pump = new IntakePump<Stored<T>>({
      url: this.options.url,
      key: this.intakeKey,
      writer: connection,
      queue: this.lookup,
      jobOptions: this.jobOptions,
      enteringKeys: (ids) => this.workerTurnstile!.enteredKeys(ids),
      reclaimIdleMs: this.options.lockDurationMs,
      // Enough for this process's workers to start their next jobs from (a burst waits in the intake); at least 16, so a small worker does not count after every job.
      keepQueued: Math.max(KEEP_QUEUED_AT_LEAST, 2 * options.concurrency),
      queued: () => this.lookup!.getWaitingCount(),
      onError: pumpErrorLog(options.logger), // one line a minute while it fails (pump-errors.ts)
      ...(this.options.noticeOf ? { noticeOf: this.options.noticeOf as (refused: unknown, limit: string, seconds: number) => unknown } : {}),
    });
    this.pump.start();
  }

  private async run(job: BullJob<Stored<T>>, token: string | undefined, handler: JobHandler<T>, invalid?: (data: T) => string | undefined): Promise<void> {
    const id = job.id as string;
    // The worker side never fails fast on Redis: a command that fails mid-job would leave BullMQ
    // unable to record the outcome, and the job stuck as active.
    const line = this.line!;
    const { DelayedError, UnrecoverableError } = bullmqPackage();
    const stored = isStored<T>(job.data);
    const { group, data } = stored ? job.data : { group: '', data: job.data as unknown as T };
    const turn = stored ? await line.turn(group, id) : 'turn';
    // No ticket: refused at the door (a duplicate, over a limit) or already answered, nothing to do;
    // unless it is no job of the bot's (added to BullMQ by hand), which the handler's check buries.
    if (turn === 'no-ticket' && invalid?.(data) === undefined) return;
    if (turn === 'wait') {
      // An earlier message of this conversation is still queued or running: park until it leaves.
      await job.moveToDelayed(Date.now() + (this.options.turnPollMs ?? TURN_RECHECK_MS), token);
      await line.park(job, group);
      throw new DelayedError();
    }
    try {
      await handler({ id, group, data, attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1, ...(job.stalledCounter > 0 ? { redelivered: true } : {}) });
    } catch (error) {
      line.stopped(id);
      if (isDeferral(error)) {
        // Wait as the rate limit asks, without spending an attempt; the job keeps its turn.
        await job.moveToDelayed(Date.now() + deferralDelayMs(error), token);
        throw new DelayedError();
      }
      if (isPermanent(error)) {
        await job.updateData({ ...job.data, deadReason: error.reason });
        throw new UnrecoverableError(errorText(error));
      }
      // A last failure leaves the line once BullMQ has recorded it (failedForGood): should this process
      // die first, the job comes back, finds its ticket, and fails again. "Name: message", as in memory.
      throw new Error(errorText(error), { cause: error });
    }
    // Not waited for: BullMQ's "completed" follows on the same connection, after it. Should the
    // leave fail, the next job sweeps this finished one's ticket (see Turnstile.turn).
    line.leave(group, id).catch(() => undefined);
  }

  /**
   * A job BullMQ has failed for good leaves its conversation's line (should that fail, the next job
   * sweeps its ticket: it is finished). One it failed without running it is the worker's to report.
   */
  private async failedForGood(job: BullJob<Stored<T>> | undefined, error: Error, options: ProcessOptions<T>): Promise<void> {
    if (!job?.finishedOn) return; // it will be tried again
    if (!isStored<T>(job.data)) return; // added by hand: in no line, and the handler has reported it
    const { group, data } = job.data;
    await this.line!.leave(group, job.id as string).catch(() => undefined);
    if (job.deferredFailure === undefined) return; // the handler ran: it has reported
    const abandoned = { id: job.id as string, group, data, attempt: job.attemptsMade, maxAttempts: job.opts.attempts ?? 1 };
    await options.onAbandoned?.(abandoned, 'stalled').catch((caught: unknown) => options.logger?.warn({ err: caught }, 'could not report a job the queue gave up on'));
  }

  async deadLetters(): Promise<DeadLetter<T>[]> {
    await this.queue.waitUntilReady();
    return this.connection.letters.list();
  }

  async addDeadLetter(letter: DeadLetter<T>): Promise<void> {
    await this.queue.waitUntilReady();
    await this.connection.letters.addDirect(letter);
  }

  async replay(id: string): Promise<boolean> {
    await this.queue.waitUntilReady();
    const { letters } = this.connection;
    const direct = await letters.direct(id);
    if (direct) {
      await this.add({ id: direct.id, group: direct.group, data: direct.data });
      await letters.removeDirect(id);
      return true;
    }
    const job = await letters.failedJob(id);
    if (!job) return false;
    await this.turnstile.enter(job.data.group, id);
    await job.updateData({ group: job.data.group, data: job.data.data });
    const moved = await retryFailed(job); // false: another replay (two operators; one letter and all) moved it first
    await this.connection.producer.del(...this.turnstile.enteredKeys([id])); // back in the queue: no longer entering
    return moved;
  }

  async dropDeadLetter(id: string): Promise<boolean> {
    return this.connection.letters.drop(id);
  }

  async purge(): Promise<number> {
    return this.connection.letters.purge();
  }

  async forget(ids: string[]): Promise<Forgotten> {
    return removeFinished(this.queue, this.connection.letters as BullDeadLetters<unknown>, ids);
  }

  async counts(): Promise<QueueCounts> {
    await this.queue.waitUntilReady();
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
    const [direct, intake] = await Promise.all([this.connection.letters.directCount(), this.connection.producer.xlen(this.intakeKey)]);
    return {
      // Admitted jobs not yet moved into BullMQ by a worker's pump wait too.
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + intake,
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      dead: (counts.failed ?? 0) + direct,
    };
  }

  async ping(): Promise<void> {
    // Readiness must answer quickly: a connection still coming up gets a moment, not forever.
    await Promise.race([this.queue.waitUntilReady(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    // On a Cluster its keys are `{prefix}:…`, not under the store's probe: an ACL may refuse them alone (NOPERM).
    const { producer } = this.connection;
    const probe = this.prefix === (this.options.prefix ?? 'parley') ? producer.ping() : readyProbe(producer, `${this.prefix}:ready`, READY_PROBE_TTL_MS);
    await probe.catch((error: unknown) => Promise.reject(whyNotConnected(producer, error)));
  }

  async close(deadlineMs: number): Promise<{ unfinished: number }> {
    // Take no new job from here on: a job finishing while the pump stops would otherwise fetch the
    // next one. Pausing first is safe while starting too (BullMQ's loop then fetches none).
    const deadline = Date.now() + deadlineMs;
    const paused = this.worker?.pause().then(() => 'paused' as const, () => 'failed' as const);
    this.door?.close();
    // A start-up cut off by close() fails on an object the close has stripped of its listeners (that
    // failure is dropped: bullmq-cut-start.ts): let every part finish starting first, within a second.
    const started = Promise.all([this.worker?.waitUntilReady(), this.lookup?.waitUntilReady(), this.opened?.queue.waitUntilReady()]);
    await Promise.race([started.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    await this.pump?.stop();
    let unfinished = 0;
    if (this.worker) {
      // Running jobs finish within the deadline; past it they are left to BullMQ's stalled-job
      // recovery, which hands them to another worker: nothing is lost either way. Redis unreachable,
      // the drain ends once no job runs (see bullmq-idle.ts); only a worker that paused closes unforced.
      const drained = await drainWithin(paused!, () => this.running, this.workerConnection, Math.max(0, deadline - Date.now()));
      unfinished = drained === 'paused' || drained === 'unreachable' ? 0 : this.running;
      await this.worker.close(drained !== 'paused').catch(() => undefined);
      await this.lookup?.close().catch(() => undefined);
      this.workerConnection?.disconnect();
    }
    if (!this.opened) return { unfinished };
    await this.queue.close().catch(() => undefined);
    this.opened.producer.disconnect();
    return { unfinished };
  }

  /** Past close()'s deadline: every connection and timer at once (bullmq-drop.ts). */
  readonly drop = (): void => dropAll({ door: this.door, pump: this.pump, worker: this.worker, queues: [this.lookup, this.opened?.queue], connections: [this.workerConnection, this.opened?.producer] });

  private key(name: string): string {
    return `${this.prefix}:${this.name}:${name}`;
  }
}
