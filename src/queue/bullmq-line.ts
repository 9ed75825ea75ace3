/**
 * A conversation's line, as a BullMQ worker sees it: whose turn it is (a job ahead that has
 * finished or vanished is swept), parking a job that must wait, and leaving (which wakes the job
 * parked next). The turnstile keeps the line in Redis; BullMQ's own lookup says whether a job has
 * finished, never its key layout.
 */
import type { Job as BullJob, Queue } from 'bullmq';
import type { Turn, Turnstile } from './turnstile.js';

export class BullLine {
  /** The jobs this process runs now, by id: their groups (see retakeTurns). */
  private readonly running = new Map<string, string>();

  constructor(
    /** On the worker's connection, which waits out an outage rather than fail mid-job. */
    private readonly turnstile: Turnstile,
    private readonly jobs: Queue,
    /** How long a retaken turn is held should its job never leave (its process died): the job lock's duration. */
    private readonly holdMs: number,
  ) {}

  async turn(group: string, id: string): Promise<Turn> {
    const turn = await this.turnstile.turn(group, id, (other) => this.isFinished(other));
    if (turn === 'turn') this.running.set(id, group);
    return turn;
  }

  /** The job stopped running here without leaving its line (it failed, or waits to be tried again). */
  stopped(id: string): void {
    this.running.delete(id);
  }

  /**
   * On every (re)connection: a Redis that came back empty lost the tickets of the jobs running here,
   * and the next message of such a conversation would start beside its job, and be answered first.
   */
  async retakeTurns(): Promise<number> {
    const retaken = await Promise.all([...this.running].map(([id, group]) => this.turnstile.retake(group, id, this.jobs.toKey(id), this.holdMs).catch(() => false)));
    return retaken.filter(Boolean).length;
  }

  /** Park a job its caller has delayed already; wake it at once when the job ahead has left meanwhile. */
  async park(job: BullJob, group: string): Promise<void> {
    // Parking failed (Redis gone)? The job is delayed already, and its own delay brings it back.
    if ((await this.turnstile.park(group, job.id as string).catch(() => 'parked')) === 'first') await wake(job);
  }

  /** Leave the conversation's line, and wake the job next in it if it is parked. */
  async leave(group: string, id: string): Promise<void> {
    this.running.delete(id);
    const next = await this.turnstile.leave(group, id);
    // A wake that fails costs the parked job its own delay (turnPollMs), nothing more.
    const parked = next === undefined ? undefined : await this.jobs.getJob(next).catch(() => undefined);
    if (parked) await wake(parked);
  }

  /** Whether a job no longer holds its conversation's turn (done, dead, or gone). */
  private async isFinished(id: string): Promise<boolean> {
    // One HGETALL: finishedOn is set once a job has completed or failed for good.
    const job = await this.jobs.getJob(id);
    return !job || job.finishedOn !== undefined;
  }
}

/**
 * A parked job goes from the delayed set to the front of the wait list: it had reached the front
 * once already when it found its conversation busy. Either step may find the job elsewhere (its
 * own delay ran out, another worker took it): nothing to do then.
 */
async function wake(job: BullJob): Promise<void> {
  await job.promote().catch(() => undefined);
  await job.changePriority({ lifo: true }).catch(() => undefined);
}
