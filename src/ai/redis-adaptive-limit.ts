/**
 * The adaptive AI concurrency limit on Redis, shared by every process: one hash (limit, block,
 * throttle start) and one sorted set of slot leases scored by expiry, so a crashed process's
 * slots free themselves. Each operation is one Lua script, loaded once and run by SHA.
 */
import type { Logger } from 'pino';
import type { RedisClient as Redis } from '../store/redis-connection.js';
import { redisScript } from '../store/redis-script.js';
import {
  BUSY_POLL_MS,
  DEFAULT_THROTTLE_MS,
  MemoryAdaptiveLimit,
  MAX_THROTTLE_MS,
  THROTTLE_GAP_MS,
  blocked,
  type AdaptiveLimit,
  type AdaptiveLimitOptions,
  type AdaptiveLimitState,
  type Admission,
  type CallOutcome,
} from './adaptive-limit.js';

/**
 * Every time in these scripts is Redis's own clock (TIME), not the caller's: processes on hosts
 * whose clocks differ by a few seconds must agree when a 429's block ends and a lease runs out.
 */
// Writes after TIME need effects replication: the default from Redis 5, the only way from 7; a 6.2
// set to 'lua-replicate-commands no' is asked for it (the call is gone from later versions).
const NOW = `if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('time')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;

/**
 * KEYS: state hash, leases zset. ARGV: max, lease ms, token.
 * Returns {0} with a slot taken, {1, wait ms, throttledSince, now} when blocked, {2} when every slot is taken.
 */
const ACQUIRE = `${NOW}
redis.call('zremrangebyscore', KEYS[2], '-inf', now)
local state = redis.call('hmget', KEYS[1], 'limit', 'blockedUntil', 'throttledSince')
local blockedUntil = tonumber(state[2] or '0')
if blockedUntil > now then return {1, blockedUntil - now, state[3] or '', now} end
local limit = math.min(tonumber(state[1] or ARGV[1]), tonumber(ARGV[1]))
if redis.call('zcard', KEYS[2]) >= math.floor(limit) then return {2} end
redis.call('zadd', KEYS[2], now + tonumber(ARGV[2]), ARGV[3])
redis.call('pexpire', KEYS[2], ARGV[2])
return {0}`;

/**
 * KEYS: state hash, leases zset. ARGV: max, token, outcome (ok|throttled|failed), retry-after ms,
 * min ms between decreases, gap ms that starts a new throttling stretch, state TTL ms.
 */
const RELEASE = `${NOW}
redis.call('zrem', KEYS[2], ARGV[2])
if ARGV[3] == 'failed' then return 0 end
local max = tonumber(ARGV[1])
local state = redis.call('hmget', KEYS[1], 'limit', 'blockedUntil', 'throttledSince', 'lastDecreaseAt')
local limit = math.min(tonumber(state[1] or ARGV[1]), max)
local blockedUntil = tonumber(state[2] or '0')
if ARGV[3] == 'ok' then
  limit = math.min(max, limit + 1 / math.max(1, math.floor(limit)))
  redis.call('hset', KEYS[1], 'limit', tostring(limit))
  if blockedUntil <= now then redis.call('hdel', KEYS[1], 'throttledSince') end
else
  local lastDecreaseAt = tonumber(state[4] or '0')
  if now >= math.max(lastDecreaseAt + tonumber(ARGV[5]), blockedUntil) then
    limit = math.max(1, limit / 2)
    redis.call('hset', KEYS[1], 'limit', tostring(limit), 'lastDecreaseAt', tostring(now))
  end
  if not state[3] or blockedUntil < now - tonumber(ARGV[6]) then redis.call('hset', KEYS[1], 'throttledSince', tostring(now)) end
  redis.call('hset', KEYS[1], 'blockedUntil', tostring(math.max(blockedUntil, now + tonumber(ARGV[4]))))
end
redis.call('pexpire', KEYS[1], ARGV[7])
return 0`;

/** KEYS: state hash, leases zset. Returns {now, the hash's fields and values flat, slots held}. */
const STATE = `${NOW}
return {now, redis.call('hgetall', KEYS[1]), redis.call('zcount', KEYS[2], now, '+inf')}`;

// By EVALSHA (redisScript), not defineCommand: the releases go on an auto-pipelined connection.
const acquire = redisScript(2, ACQUIRE);
const releaseSlot = redisScript(2, RELEASE);
const readState = redisScript(2, STATE);

/** A quiet limit is forgotten after a day (the longest block): it starts again at the maximum. */
const STATE_TTL_MS = MAX_THROTTLE_MS;

/**
 * How long a release is waited for: a reachable Redis answers well within it (so a 429's block is
 * in place before the next acquire); during an outage the caller goes on and the release is sent
 * when Redis is back.
 */
const RELEASE_WAIT_MS = 500;

export interface ReleaseOptions {
  /**
   * The connection releases go on: a patient one (offline queue, retries) so a slot given back
   * during a short outage is given back when Redis returns, not held until its lease runs out.
   * Acquiring stays on the fail-fast connection, to fall back to this process's limit at once.
   */
  connection?: () => Redis;
  logger?: Logger;
}

export class RedisAdaptiveLimit implements AdaptiveLimit {
  private readonly stateKey: string;
  private readonly leasesKey: string;
  /** While Redis is unreachable the limit is kept in this process, rather than refusing every call. */
  private readonly insurance: MemoryAdaptiveLimit;
  private next = 0;
  /** Set when a release was lost, so an outage is warned about once, not once per slot. */
  private releaseLost = false;

  constructor(
    private readonly redis: Redis,
    private readonly options: AdaptiveLimitOptions,
    prefix = 'parley',
    private readonly releasing: ReleaseOptions = {},
  ) {
    // One hash tag: both keys live in the same Cluster slot, as a script needs. Both start with the
    // prefix, as every key does, so an ACL user limited to ~<prefix>:* may write them.
    this.stateKey = `${prefix}:{${prefix}:ai-limit}:state`;
    this.leasesKey = `${prefix}:{${prefix}:ai-limit}:leases`;
    this.insurance = new MemoryAdaptiveLimit(options);
  }

  async tryAcquire(): Promise<Admission> {
    const token = `${process.pid}.${Date.now()}.${++this.next}`;
    let reply: [number, number?, string?, number?];
    try {
      reply = (await acquire(this.redis, this.stateKey, this.leasesKey, this.options.max, this.options.leaseMs, token)) as [number, number?, string?, number?];
    } catch {
      // Timed out, the acquire may still be carried out (a frozen Redis runs it when it wakes), and
      // this call then takes its slot from this process's own limit: the lease it would add is taken
      // back by its token, sent right behind it on the same connection so that it runs after it.
      // Harmless when the acquire never ran; not waited for.
      this.redis.zrem(this.leasesKey, token).catch(() => undefined);
      const local = await this.insurance.tryAcquire();
      return 'token' in local ? { token: `local:${local.token}` } : local;
    }
    if (reply[0] === 0) return { token };
    if (reply[0] === 2) return { waitMs: BUSY_POLL_MS };
    return blocked(Number(reply[1]), reply[2] ? onThisClock(Number(reply[2]), Number(reply[3])) : undefined);
  }

  async release(token: string, outcome: CallOutcome): Promise<void> {
    // Taken from this process's own limit while Redis was down: given back there, never on Redis.
    if (token.startsWith('local:')) return this.insurance.release(token.slice(6), outcome);
    const retryAfterMs = outcome.kind === 'throttled' ? outcome.retryAfterMs : 0;
    const sent = releaseSlot(this.releasing.connection?.() ?? this.redis, this.stateKey, this.leasesKey, this.options.max, token, outcome.kind, retryAfterMs, DEFAULT_THROTTLE_MS, THROTTLE_GAP_MS, STATE_TTL_MS).then(
      () => void (this.releaseLost = false),
      (error: unknown) => {
        // The lease expires by itself; a lost release costs a slot for leaseMs at most.
        if (!this.releaseLost) this.releasing.logger?.warn({ err: error }, 'could not give AI slots back on Redis; they free themselves when their leases end');
        this.releaseLost = true;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, RELEASE_WAIT_MS).unref()));
    await Promise.race([sent, waited]).finally(() => clearTimeout(timer));
  }

  async state(): Promise<AdaptiveLimitState> {
    const [now, flat, inFlight] = (await readState(this.redis, this.stateKey, this.leasesKey)) as [number, string[], number];
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    const blockedUntil = Number(fields.blockedUntil ?? 0);
    const state: AdaptiveLimitState = {
      limit: Math.min(Number(fields.limit ?? this.options.max), this.options.max),
      inFlight,
      blockedUntil: blockedUntil > now ? onThisClock(blockedUntil, now) : 0,
    };
    if (fields.throttledSince) state.throttledSince = onThisClock(Number(fields.throttledSince), now);
    return state;
  }
}

/** A time on Redis's clock (`redisNow` being its now) as this process's clock reads it. */
function onThisClock(at: number, redisNow: number): number {
  return Date.now() - (redisNow - at);
}
