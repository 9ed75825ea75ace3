import type { RedisClient as Redis } from '../store/redis-connection.js';

/** Kept for as long as a conversation's messages can be queued; refreshed on every message. */
const TURN_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** KEYS: job, claim, seq, group set, entering marker. ARGV: id, claim TTL, group TTL, grace. */
const ENTER_IF_NEW = `
if redis.call('exists', KEYS[1]) == 1 then return 0 end
if not redis.call('set', KEYS[2], '1', 'PX', ARGV[2], 'NX') then return 0 end
local seq = redis.call('incr', KEYS[3])
redis.call('zadd', KEYS[4], 'NX', seq, ARGV[1])
redis.call('pexpire', KEYS[4], ARGV[3])
redis.call('set', KEYS[5], '1', 'PX', ARGV[4])
return 1`;
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

  /**
   * The producer's side in one round trip (the ack path counts them): unless the job already
   * exists, claim its id (so two producers adding it at once do not both think it new) and
   * enter it in its group. False when the job exists or another producer claimed it.
   */
  async enterIfNew(job: { id: string; group: string; key: string }, claimKey: string, claimTtlMs: number): Promise<boolean> {
    const entered = await this.redis.eval(
      ENTER_IF_NEW,
      5,
      job.key,
      claimKey,
      `${this.prefix}:seq`,
      this.key(job.group),
      this.enteringKey(job.id),
      job.id,
      String(claimTtlMs),
      String(TURN_TTL_MS),
      String(ENTERING_GRACE_MS),
    );
    return entered === 1;
  }

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
