import type { RedisClient as Redis } from '../store/redis-connection.js';

/** Kept for as long as a conversation's messages can be queued; refreshed on every message. */
const TURN_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** Longer than any add takes; a job still unknown after this is really lost. */
const ENTERING_GRACE_MS = 10_000;

/**
 * Arrival order per conversation, shared by every process: one sorted set per group, scored by a
 * global counter. A job may run only when it is first in its group's set; it leaves the set when
 * it is answered or dead-lettered. Entries whose job is gone are swept, so a lost job cannot
 * block its conversation.
 */
export class Turnstile {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async enter(group: string, id: string): Promise<void> {
    const seq = await this.redis.incr(`${this.prefix}:seq`);
    await this.redis.multi().zadd(this.key(group), 'NX', seq, id).pexpire(this.key(group), TURN_TTL_MS).exec();
    // Between entering and the job being added, the job is "unknown" to the queue: this marker
    // keeps another process from sweeping it as lost in that window.
    await this.redis.set(this.enteringKey(id), '1', 'PX', ENTERING_GRACE_MS);
  }

  /** The job is in the queue now: from here on, "unknown" to the queue means really gone. */
  async added(id: string): Promise<void> {
    await this.redis.del(this.enteringKey(id));
  }

  async leave(group: string, id: string): Promise<void> {
    await this.redis.zrem(this.key(group), id);
  }

  /** True when `id` is the oldest unfinished job of its group. */
  async isTurn(group: string, id: string, isFinished: (id: string) => Promise<boolean>): Promise<boolean> {
    if ((await this.redis.zscore(this.key(group), id)) === null) await this.enter(group, id);
    for (;;) {
      const [head] = await this.redis.zrange(this.key(group), 0, 0);
      if (head === undefined || head === id) return true;
      if ((await this.redis.exists(this.enteringKey(head))) || !(await isFinished(head))) return false;
      await this.redis.zrem(this.key(group), head);
    }
  }

  private enteringKey(id: string): string {
    return `${this.prefix}-entering:${id}`;
  }

  private key(group: string): string {
    return `${this.prefix}:${group}`;
  }
}
