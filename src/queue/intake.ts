/**
 * The intake: where an ack leaves its job, so that the ack costs one short script and nothing
 * more. The turnstile's admit script (claim, limits, ticket) appends the job to a Redis stream in
 * the same EVALSHA; every worker process runs a pump that reads the stream as one consumer group
 * and moves what it reads into BullMQ with BullMQ's own `add` (`addBulk` for a bigger batch).
 * BullMQ stays the queue: retries, backoff, dead letters and stalled-job recovery all happen there.
 *
 * The pump moves jobs as the workers need them, not as fast as they arrive: once it has moved
 * `keepQueued` jobs, it lets BullMQ's waiting list run down to half of that before it reads more. A
 * burst of acks then waits in the stream, and the CPU its move into BullMQ costs is spread over
 * the time the workers take to answer it instead of competing with the acks of the burst itself.
 *
 * Nothing is lost on the way: an entry is acknowledged and deleted only after its job is in
 * BullMQ; a pump that dies leaves its entries pending, and another pump takes them over once they
 * have been idle for `reclaimIdleMs` (XAUTOCLAIM; the queue passes its job lock duration). Moving
 * an entry twice is harmless: the job id is the delivery id, and BullMQ ignores an id it holds.
 */
import type { Queue } from 'bullmq';
import { connectRedis, whenReady, type RedisClient as Redis } from '../store/redis-connection.js';
import type { Admission, Admitted } from './queue.js';
import { Turnstile } from './turnstile.js';
import { claimedEntries, DROPPED_ENTRIES, droppedNotice, lacksAutoclaim, NO_AUTOCLAIM, parseJob, type Entry } from './intake-entry.js';
import { GiveUp } from './give-up.js';

/** One pump reads at most this many entries at a time. */
const BATCH = 200;
/**
 * From this many jobs a batch goes to BullMQ as one `addBulk` (one write, but an ioredis pipeline,
 * ~90 µs on BullMQ's connection); fewer go as single adds (one write each, ~25 µs).
 */
const BULK_FROM = 4;
/** How long a read blocks when the stream is empty, at most; an idle pump looks for orphans between reads. */
const BLOCK_MS = 5_000;
const RETRY_MS = { first: 100, max: 5_000 };
/** While BullMQ holds enough waiting jobs, how often the pump looks again. */
const QUEUED_POLL_MS = 50;
const GROUP = 'pump';
export const GROUP_LOST =
  "the intake's consumer group is gone: Redis lost its data (it restarted without persistence, or the keys were deleted), and with it every message still waiting in the queue; making the group again";
/** How long the first ack waits for the door's connection to come up. */
const DOOR_FIRST_CONNECT_MS = 2000;

/**
 * Entries moved: acknowledged, deleted, and their jobs' entering markers cleared, in one script.
 * KEYS: stream, markers…  ARGV: group, entry ids…
 */
const DONE = `
redis.call('xack', KEYS[1], ARGV[1], unpack(ARGV, 2))
redis.call('xdel', KEYS[1], unpack(ARGV, 2))
if #KEYS > 1 then redis.call('del', unpack(KEYS, 2)) end
return 1`;

/**
 * Consumers with nothing pending that are gone: this pump's own when it stops (ARGV[3]), and any idle
 * longer than ARGV[2] ms (a pump that died; its entries were taken over). Without this, every
 * worker process ever started stays in the group. Checked and deleted in one script, so an entry
 * read in between cannot be dropped with its consumer.  KEYS: stream  ARGV: group, idle ms, own consumer
 */
const FORGET = `
local ok, consumers = pcall(redis.call, 'xinfo', 'consumers', KEYS[1], ARGV[1])
if not ok then return 0 end
local forgotten = 0
for _, fields in ipairs(consumers) do
  local info = {}
  for i = 1, #fields, 2 do info[fields[i]] = fields[i + 1] end
  if info.pending == 0 and (info.name == ARGV[3] or info.idle >= tonumber(ARGV[2])) then
    redis.call('xgroup', 'delconsumer', KEYS[1], ARGV[1], info.name)
    forgotten = forgotten + 1
  end
end
return forgotten`;

interface IntakeCommands {
  parleyIntakeDone(...keysAndArgs: string[]): Promise<number>;
  parleyIntakeForget(key: string, group: string, idleMs: string, own: string): Promise<number>;
}

export interface IntakeJob<T> {
  id: string;
  group: string;
  data: T;
}

export interface IntakeOptions {
  /** Redis, where the pump opens a connection of its own for its blocking reads. */
  url: string;
  /** The stream's key. */
  key: string;
  /** Where the jobs go: BullMQ, on a connection that is not auto-pipelined. */
  queue: Queue;
  /** The connection the entries are acknowledged on. */
  writer: Redis;
  /** BullMQ's options for each job (its id is added). */
  jobOptions: Record<string, unknown>;
  /** The turnstile's entering markers of the given job ids, deleted once the jobs are in BullMQ. */
  enteringKeys(ids: string[]): string[];
  /** Told about a batch that could not be moved (it is tried again). */
  onError(error: unknown): void;
  /** A refused job's notice (the door's script leaves the refused job's payload for it): its data, or undefined for none. */
  noticeOf?(refused: unknown, limit: string, seconds: number): unknown;
  /** Entries another pump read and has not moved for this long are taken over (its process died). */
  reclaimIdleMs: number;
  /** How many jobs to keep waiting in BullMQ, about: the rest wait in the intake. */
  keepQueued: number;
  /** How many jobs wait in BullMQ now (BullMQ's own count). */
  queued(): Promise<number>;
}

/**
 * The ack's side: the turnstile's admit script with the job as its payload, on a connection of its
 * own that carries parley's scripts only. BullMQ loads ~50 scripts onto every connection it uses,
 * and each auto-pipelined write on such a connection copies them all (about 90 µs).
 */
export class IntakeDoor {
  private readonly redis: Redis;
  private readonly turnstile: Turnstile;
  private readonly ready: Promise<void>;

  constructor(
    url: string,
    turnPrefix: string,
    private readonly key: string,
  ) {
    // Fails fast while Redis is down, so ingress can answer 503 at once. Not auto-pipelined: ioredis
    // sends one such batch at a time, so an ack waited behind the ones before (the thirty-sixth look).
    this.redis = connectRedis(url);
    this.redis.on('error', () => undefined); // reported through admit() failures
    this.turnstile = new Turnstile(this.redis, turnPrefix);
    this.ready = whenReady(this.redis, DOOR_FIRST_CONNECT_MS).catch(() => undefined);
  }

  /** `notices`: a refusal's notice is queued in the script too (the pumps make it: IntakeOptions.noticeOf). */
  async admit<T>(job: IntakeJob<T>, admission: Admission, notices = false): Promise<Admitted> {
    await this.ready; // the first connection gets a moment; after it, a Redis outage fails at once
    return this.turnstile.admit(job, admission, { key: this.key, payload: JSON.stringify(job), notices });
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** `command`'s end, or its connection's loss: a command then waits for Redis to come back. */
function whileConnected(redis: Redis, command: Promise<unknown>): Promise<unknown> {
  let lost!: () => void;
  const closed = new Promise<void>((resolve) => redis.once('close', (lost = resolve)));
  return Promise.race([command.catch(() => undefined), closed]).finally(() => redis.off('close', lost));
}

export class IntakePump<T> {
  private stopped = false;
  private running?: Promise<void>;
  private readonly consumer = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  private nextReclaimAt = 0;
  /** Whether the consumer group existed once: if it vanishes after that, Redis lost its data. */
  private groupMade = false;
  /** Ends a pause (after an error, or while BullMQ holds enough) early, when the pump is stopped. */
  private wakeUp?: () => void;
  /** Gives up the commands under way once the pump stops (untilStopped). */
  private readonly giveUp = new GiveUp();
  /** How long a read blocks, and how often orphans are looked for. */
  private readonly checkEveryMs: number;

  private readonly commands: IntakeCommands;
  /** The pump's own connection: its reads block (up to BLOCK_MS), and it waits out an outage. */
  private readonly reader: Redis;

  constructor(private readonly options: IntakeOptions) {
    this.reader = connectRedis(options.url, { enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.reader.on('error', () => undefined); // a failed read is reported through onError
    const writer = options.writer as unknown as Partial<IntakeCommands>;
    if (!writer.parleyIntakeDone) options.writer.defineCommand('parleyIntakeDone', { lua: DONE });
    if (!writer.parleyIntakeForget) options.writer.defineCommand('parleyIntakeForget', { lua: FORGET, numberOfKeys: 1 });
    this.commands = options.writer as unknown as IntakeCommands;
    this.checkEveryMs = Math.max(50, Math.min(BLOCK_MS, Math.floor(options.reclaimIdleMs / 2)));
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Stop reading; a batch being moved finishes first. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.reader.disconnect(); // ends a blocked read at once
    this.giveUp.now(new Error('intake pump stopped'));
    this.wakeUp?.();
    await this.running;
    // Unreachable, the writer would hold its command until Redis is back: the running pumps forget this
    // consumer later. Given up too when the connection drops meanwhile ('ready' still: just lost).
    if (this.options.writer.status === 'ready') await whileConnected(this.options.writer, this.forget(this.consumer));
  }

  /**
   * A reader command (or a count, a FORGET), given up when the pump stops: ioredis's disconnect() settles
   * nothing queued while it is reconnecting, so a command waiting out an outage would hold stop() for good.
   */
  private untilStopped<R>(command: Promise<R>): Promise<R> {
    return this.giveUp.race(command);
  }

  /** Drop the group's consumers that are gone (see FORGET). */
  private forget(own = ''): Promise<number> {
    return this.commands.parleyIntakeForget(this.options.key, GROUP, String(this.options.reclaimIdleMs), own);
  }

  private async loop(): Promise<void> {
    let pendingFirst = true; // our own unacknowledged entries first: after a start, and after an error
    let retryMs = RETRY_MS.first;
    const keep = Math.max(1, Math.min(BATCH, this.options.keepQueued));
    let room = keep; // how many entries may be moved before BullMQ's waiting list is looked at again
    await this.ensureGroup().catch(() => undefined);
    while (!this.stopped) {
      try {
        if (Date.now() >= this.nextReclaimAt) await this.reclaim();
        const count = Math.max(1, room); // room is short after a failed look at BullMQ's count
        const entries = await this.read(pendingFirst ? '0' : '>', count);
        if (pendingFirst && entries.length < count) pendingFirst = false;
        if (entries.length > 0) await this.move(entries);
        room -= entries.length;
        // Most of what BullMQ may hold has been moved: read more once the workers have taken half.
        if (room < BULK_FROM) room = await this.roomInQueue(keep);
        retryMs = RETRY_MS.first;
      } catch (error) {
        if (this.stopped) break;
        const gone = /NOGROUP/.test(String(error));
        const old = lacksAutoclaim(error); // before Redis 6.2: said once, not tried again (it slowed every move)
        if (old) this.nextReclaimAt = Infinity;
        // The group this pump made is gone: Redis came back empty (no persistence) or the keys were deleted.
        this.options.onError(old ? new Error(NO_AUTOCLAIM) : gone && this.groupMade ? new Error(GROUP_LOST, { cause: error }) : error);
        if (gone) await this.ensureGroup().catch(() => undefined);
        pendingFirst = true;
        await this.pause(retryMs);
        retryMs = Math.min(RETRY_MS.max, retryMs * 2);
      }
    }
  }

  /** The consumer group, reading from the stream's start (entries written before it existed too). */
  private async ensureGroup(): Promise<void> {
    try {
      await this.untilStopped(this.reader.xgroup('CREATE', this.options.key, GROUP, '0', 'MKSTREAM'));
    } catch (error) {
      if (!/BUSYGROUP/.test(String(error))) throw error;
    }
    this.groupMade = true;
  }

  private async read(from: '0' | '>', count: number): Promise<Entry[]> {
    const { key } = this.options;
    const block = from === '>' ? ['BLOCK', String(this.checkEveryMs)] : [];
    const reply = (await this.untilStopped(this.reader.call('XREADGROUP', 'GROUP', GROUP, this.consumer, 'COUNT', String(count), ...block, 'STREAMS', key, from))) as [string, Entry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  /** Waits until BullMQ holds at most half of `keep` waiting jobs; returns how many to read then. */
  private async roomInQueue(keep: number): Promise<number> {
    for (;;) {
      const waiting = await this.untilStopped(this.options.queued()); // a count, on the writer: given up too
      if (waiting <= keep / 2 || this.stopped) return Math.max(1, keep - waiting);
      await this.pause(QUEUED_POLL_MS);
    }
  }

  /** Wait `ms`, or less when the pump is stopped meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => setTimeout((this.wakeUp = resolve), ms));
  }

  /** Entries another pump read and never acknowledged (it died): moved by this one instead. */
  private async reclaim(): Promise<void> {
    this.nextReclaimAt = Date.now() + this.checkEveryMs;
    let cursor = '0-0';
    do {
      const [next, entries] = claimedEntries(await this.untilStopped(this.reader.call('XAUTOCLAIM', this.options.key, GROUP, this.consumer, String(this.options.reclaimIdleMs), cursor, 'COUNT', String(BATCH))));
      if (entries.length > 0) await this.move(entries);
      cursor = next;
    } while (cursor !== '0-0' && !this.stopped);
    if (cursor === '0-0') await this.untilStopped(this.forget()); // one script: run whole or not at all
  }

  /**
   * Into BullMQ (all in flight at once), then acknowledged, deleted, and the jobs' entering
   * markers cleared.
   */
  private async move(entries: Entry[]): Promise<void> {
    const { queue, key, jobOptions } = this.options;
    const jobs = entries.map(([, fields]) => parseJob<T>(fields, this.options.noticeOf)).filter((job): job is IntakeJob<T> => job !== undefined);
    // A notice dropped (no noticeOf here) still lets its conversation's line go on: its marker is cleared.
    const ids = [...jobs.map((job) => job.id), ...entries.flatMap(([, fields]) => droppedNotice(fields, jobs))];
    if (jobs.length < entries.length) this.options.onError(new Error(`${entries.length - jobs.length} ${DROPPED_ENTRIES}`));
    const bullJobs = jobs.map((job) => ({ name: 'message', data: { group: job.group, data: job.data }, opts: { ...jobOptions, jobId: job.id } }));
    if (bullJobs.length >= BULK_FROM) await queue.addBulk(bullJobs);
    else await Promise.all(bullJobs.map((job) => queue.add(job.name, job.data, job.opts)));
    const markers = this.options.enteringKeys(ids);
    await this.commands.parleyIntakeDone(String(1 + markers.length), key, ...markers, GROUP, ...entries.map(([id]) => id));
  }
}
