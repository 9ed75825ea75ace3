import type { RedisClient as Redis } from '../store/redis-connection.js';
import type { Admission, Admitted } from './queue.js';

/** Kept for as long as a conversation's messages can be queued; refreshed on every message. */
const TURN_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * The job's add follows its ticket in the same pipeline, microseconds later: a job still unknown
 * after this is really lost (and a removed head job blocks its conversation no longer than this).
 */
const ENTERING_GRACE_MS = 1000;
/** A replayed job's marker, should its replay stop before it moves the job back (normally deleted at once). */
const REPLAY_ENTERING_MS = 60_000;

/**
 * The door, in one script: claim the delivery (the dedupe key), count it against each limit (a
 * fixed window: INCR, and PEXPIRE when the window opens), and only then give the job its ticket —
 * its place in the conversation's sorted set, scored by a global counter — plus an "entering"
 * marker that keeps other processes from sweeping the ticket before the job exists. With a
 * payload, the job itself goes to the intake stream in the same step (see intake.ts), and its
 * marker lasts until the intake pump has moved it into BullMQ.
 * Before all that, a required key (Admission.requires) that is missing ignores the message; with
 * the ticket, a mark (Admission.marks) is set. Over a limit, with a notice id, the notice gets a
 * ticket and goes to the intake the same way, once per window (its key set NX for the window's rest):
 * its intake entry is the refused job's own payload with the notice's id, the limit and the seconds
 * left (fields `notice`, `id`, `limit`, `seconds`), from which the pump makes the notice (noticeOf):
 * the ack carries nothing more for it than the limits' names.
 * KEYS: claim, seq, group set, entering marker, intake stream, required key, mark, the notice's
 * entering marker, then per limit: its counter and its notice's once-per-window key.
 * ARGV: id, claim TTL ms, group TTL ms, entering marker ms, payload ('' for none), '1' when the
 * required key must exist ('' for none), the mark's TTL ms ('' for none), the notice's id ('' for
 * none), then per limit: points, seconds, and its name ('' without a notice).
 * Returns {0} duplicate, {1} ticketed, {2, limit index (1-based), ms until the window ends, 1 when
 * the notice was queued}, {3} ignored.
 */
const ADMIT = `
if ARGV[6] == '1' and redis.call('exists', KEYS[6]) == 0 then return {3} end
if not redis.call('set', KEYS[1], '1', 'PX', ARGV[2], 'NX') then return {0} end
local function enter(id, marker, entry)
  local seq = redis.call('incr', KEYS[2])
  redis.call('zadd', KEYS[3], 'NX', seq, id)
  redis.call('pexpire', KEYS[3], ARGV[3])
  redis.call('set', marker, '1', 'PX', ARGV[4])
  if entry ~= '' then redis.call('xadd', KEYS[5], '*', 'job', entry) end
end
for i = 1, (#KEYS - 8) / 2 do
  local k, a = 7 + 2 * i, 6 + 3 * i
  local points = tonumber(ARGV[a])
  local windowMs = 1000 * tonumber(ARGV[a + 1])
  local consumed = redis.call('incr', KEYS[k])
  if consumed == 1 then redis.call('pexpire', KEYS[k], windowMs) end
  if consumed > points then
    local ttl = redis.call('pttl', KEYS[k])
    if ttl < 0 then
      redis.call('pexpire', KEYS[k], windowMs)
      ttl = windowMs
    end
    if ARGV[8] == '' or not redis.call('set', KEYS[k + 1], '1', 'PX', math.max(ttl, 1), 'NX') then return {2, i, ttl, 0} end
    local seconds = string.format('%d', math.max(1, math.ceil(ttl / 1000)))
    enter(ARGV[8], KEYS[8], '')
    redis.call('xadd', KEYS[5], '*', 'notice', ARGV[5], 'id', ARGV[8], 'limit', ARGV[a + 2], 'seconds', seconds)
    return {2, i, ttl, 1}
  end
end
enter(ARGV[1], KEYS[4], ARGV[5])
if ARGV[7] ~= '' then redis.call('set', KEYS[7], '1', 'PX', ARGV[7]) end
return {1}`;

/**
 * Whose turn it is. KEYS: group set. ARGV: id. Returns {1} when `id` is first, {0} when it holds
 * no ticket, {2, head} when `head` is ahead of it.
 */
const TURN = `
local head = redis.call('zrange', KEYS[1], 0, 0)[1]
if head == ARGV[1] then return {1} end
if not redis.call('zscore', KEYS[1], ARGV[1]) then return {0} end
return {2, head}`;

/**
 * A job that must wait parks (it is delayed in the queue by its caller first). KEYS: group set,
 * parked set. ARGV: id, group TTL ms. Returns 1 when `id` is first after all (the job ahead left
 * meanwhile: the caller wakes it itself), else 0, parked.
 */
const PARK = `
if redis.call('zrange', KEYS[1], 0, 0)[1] == ARGV[1] then return 1 end
redis.call('sadd', KEYS[2], ARGV[1])
redis.call('pexpire', KEYS[2], ARGV[2])
return 0`;

/**
 * A job leaves the line. KEYS: group set, parked set. ARGV: id. Returns the id of the job now first
 * when it is parked (the caller wakes it), else false.
 */
const LEAVE = `
redis.call('zrem', KEYS[1], ARGV[1])
redis.call('srem', KEYS[2], ARGV[1])
local head = redis.call('zrange', KEYS[1], 0, 0)[1]
if head and redis.call('srem', KEYS[2], head) == 1 then return head end
return false`;

/**
 * A job still running when Redis came back empty (no persistence) takes its place again, first in
 * its line (a later message must not start beside it), with an entering marker, since BullMQ has
 * lost the job too and the sweep would take it for finished. A job BullMQ still has was not lost:
 * its ticket, if gone, left rightly (another worker answered it after a stall). KEYS: group set,
 * entering marker, the job's key. ARGV: id, marker ms, group TTL ms. Returns 1 when the ticket
 * was missing and is back, else 0.
 */
const RETAKE = `
if redis.call('zscore', KEYS[1], ARGV[1]) or redis.call('exists', KEYS[3]) == 1 then return 0 end
local head = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
redis.call('zadd', KEYS[1], head[2] and tonumber(head[2]) - 1 or 0, ARGV[1])
redis.call('pexpire', KEYS[1], ARGV[3])
redis.call('set', KEYS[2], '1', 'PX', ARGV[2])
return 1`;

interface TurnstileCommands {
  parleyAdmit(...keysAndArgs: string[]): Promise<[number, number?, number?, number?]>;
  parleyTurn(group: string, id: string): Promise<[number, string?]>;
  parleyPark(group: string, parked: string, id: string, ttlMs: string): Promise<number>;
  parleyLeave(group: string, parked: string, id: string): Promise<string | null>;
  parleyRetake(group: string, entering: string, job: string, id: string, markerMs: string, ttlMs: string): Promise<number>;
}

export type Turn = 'turn' | 'no-ticket' | 'wait';

/**
 * Arrival order per conversation, shared by every process: one sorted set per group, scored by a
 * global counter. A job runs only when it holds a ticket and is first in its group's set; it
 * leaves the set when it is answered or dead-lettered. A job without a ticket was refused at the
 * door (a duplicate, or over a limit) or has already been answered, and is dropped. A job that
 * must wait parks, and the job ahead of it wakes it when it leaves, so the wait ends as soon as
 * the conversation is free and costs no polling. Tickets whose job is gone are swept, so a lost job
 * cannot block its conversation. The scripts are loaded once per connection (EVALSHA).
 */
export class Turnstile {
  private readonly commands: TurnstileCommands;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    const loaded = redis as unknown as Partial<TurnstileCommands>;
    if (!loaded.parleyAdmit) redis.defineCommand('parleyAdmit', { lua: ADMIT });
    if (!loaded.parleyTurn) redis.defineCommand('parleyTurn', { numberOfKeys: 1, lua: TURN });
    if (!loaded.parleyPark) redis.defineCommand('parleyPark', { numberOfKeys: 2, lua: PARK });
    if (!loaded.parleyLeave) redis.defineCommand('parleyLeave', { numberOfKeys: 2, lua: LEAVE });
    if (!loaded.parleyRetake) redis.defineCommand('parleyRetake', { numberOfKeys: 3, lua: RETAKE });
    this.commands = redis as unknown as TurnstileCommands;
  }

  /**
   * Claim, limits and ticket in one script. Without `intake`, not awaited before the caller adds
   * the job: the two go to Redis in one pipeline, this one first, so no worker can see the job
   * before its ticket. With `intake` (the job, serialised), the job goes to the intake stream in
   * the same script, and its entering marker lasts until the pump takes it out (entered()); so does
   * a refusal's notice (Admission.notice) when `intake.notices` (its pump makes notices).
   */
  admit(job: { id: string; group: string }, admission: Admission, intake?: { key: string; payload: string; notices?: boolean }): Promise<Admitted> {
    const claim = this.claimKey(admission.claim);
    const notice = intake?.notices ? admission.notice : undefined;
    // Unused places (no intake, required key, mark or notice) hold the claim's key: the script never touches them.
    const limitKeys = admission.limits.flatMap((limit) => [`${this.prefix}-limit:${limit.name}:${limit.subject}`, notice ? `${this.prefix}-notice:${limit.name}:${limit.subject}` : claim]);
    const limitArgs = admission.limits.flatMap((limit) => [String(limit.points), String(limit.durationSeconds), notice ? limit.name : '']);
    const { requires, marks } = admission;
    const keys = [claim, `${this.prefix}:seq`, this.key(job.group), this.enteringKey(job.id), intake?.key ?? claim, requires ?? claim, marks?.key ?? claim, notice ? this.enteringKey(notice.id) : claim, ...limitKeys];
    const enteringMs = intake ? admission.claimTtlMs : ENTERING_GRACE_MS;
    const args = [job.id, String(admission.claimTtlMs), String(TURN_TTL_MS), String(enteringMs), intake?.payload ?? '', requires === undefined ? '' : '1', marks ? String(Math.ceil(marks.ttlMs)) : '', notice?.id ?? '', ...limitArgs];
    return this.commands.parleyAdmit(String(keys.length), ...keys, ...args).then(([verdict, index = 1, ttl = 0, noticed = 0]): Admitted => {
      if (verdict === 0) return { outcome: 'duplicate' };
      if (verdict === 1) return { outcome: 'queued' };
      if (verdict === 3) return { outcome: 'ignored' };
      return { outcome: 'limited', limit: admission.limits[index - 1]!, retryAfterMs: ttl, ...(notice ? { noticed: noticed === 1 } : {}) };
    });
  }

  /** The entering markers of jobs that now exist in the queue (moved there from the intake). */
  enteredKeys(ids: string[]): string[] {
    return ids.map((id) => this.enteringKey(id));
  }

  /** Undo a ticket whose job could not be added: the claim and the ticket are given back. */
  async withdraw(job: { id: string; group: string }, admission: Admission): Promise<void> {
    await this.redis.multi().del(this.claimKey(admission.claim)).zrem(this.key(job.group), job.id).exec();
  }

  /**
   * A ticket at the back of the line (a replayed dead letter), with an entering marker: until the
   * caller has moved the job back (and deleted the marker, `enteredKeys`), it still reads as
   * finished, and a later job must not sweep it.
   */
  async enter(group: string, id: string): Promise<void> {
    const seq = await this.redis.incr(`${this.prefix}:seq`);
    const line = this.key(group);
    await this.redis.multi().zadd(line, 'NX', seq, id).pexpire(line, TURN_TTL_MS).set(this.enteringKey(id), '1', 'PX', REPLAY_ENTERING_MS).exec();
  }

  /** Leave the line. Returns the job now first when it is parked: the caller wakes it. */
  async leave(group: string, id: string): Promise<string | undefined> {
    return (await this.commands.parleyLeave(this.key(group), this.parkedKey(group), id)) ?? undefined;
  }

  /** A running job's ticket, taken again if Redis lost it and the job (`jobKey`) (RETAKE); the marker holds it for `markerMs`. Whether it was lost. */
  async retake(group: string, id: string, jobKey: string, markerMs: number): Promise<boolean> {
    return (await this.commands.parleyRetake(this.key(group), this.enteringKey(id), jobKey, id, String(markerMs), String(TURN_TTL_MS))) === 1;
  }

  /**
   * Park a waiting job (already delayed in the queue), so the job ahead wakes it when it leaves.
   * Returns 'first' when the job ahead has left meanwhile: then the caller wakes it at once.
   */
  async park(group: string, id: string): Promise<'parked' | 'first'> {
    return (await this.commands.parleyPark(this.key(group), this.parkedKey(group), id, String(TURN_TTL_MS))) === 1 ? 'first' : 'parked';
  }

  /**
   * Whether `id` may run now. One round trip when it is first (the usual case); when another job
   * is ahead, that job is swept if it has finished or vanished, and the line is read again.
   */
  async turn(group: string, id: string, isFinished: (id: string) => Promise<boolean>): Promise<Turn> {
    for (;;) {
      const [state, head] = await this.commands.parleyTurn(this.key(group), id);
      if (state === 1) return 'turn';
      if (state === 0 || head === undefined) return 'no-ticket';
      if ((await this.redis.exists(this.enteringKey(head))) || !(await isFinished(head))) return 'wait';
      await this.redis.zrem(this.key(group), head);
    }
  }

  private claimKey(claim: string): string {
    return `${this.prefix}-claim:${claim}`;
  }

  private parkedKey(group: string): string {
    return `${this.prefix}-parked:${group}`;
  }

  private enteringKey(id: string): string {
    return `${this.prefix}-entering:${id}`;
  }

  private key(group: string): string {
    return `${this.prefix}:${group}`;
  }
}
