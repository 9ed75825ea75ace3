/**
 * bot.close(): every step is bounded, so an unreachable Redis (ioredis reconnecting, commands
 * waiting for it, BullMQ waiting for its connection) cannot hold a shutdown past SHUTDOWN_TIMEOUT_MS.
 */
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Adapter } from './adapter.js';
import { stopAccepting } from './http/server.js';
import { logLost, type LostMessage } from './lost-messages.js';
import type { JobQueue } from './queue/index.js';

export interface CloseOptions {
  /**
   * How long to keep serving as usual, `/readyz` answering 503, before the port closes and the
   * drain begins: time for a load balancer to take the process out. Default: SHUTDOWN_DELAY_MS.
   */
  delayMs?: number;
  /** Ends that delay early when aborted (a second SIGTERM); the drain goes on as usual. */
  signal?: AbortSignal;
}

/** `/readyz`'s reason from the moment close() is called. */
export const STOPPING = 'stopping: this process is shutting down';

/** close()'s `delayMs`, refused before anything changes when it is no number of milliseconds. */
function checkedDelay(delayMs: number): number {
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`bot.close({ delayMs: ${delayMs} }): delayMs must be a number of milliseconds, 0 or more`);
  return delayMs;
}

/**
 * bot.close() run once: a later call (a second shutdown hook, a test's teardown) joins the first
 * instead of waiting out a delay of its own and closing again; its `signal`, or `delayMs: 0`, ends
 * the delay under way.
 */
export function closeOnce(run: (delayMs: number, endDelay: AbortSignal) => Promise<{ unfinished: number }>, defaultDelayMs: number) {
  let closed: Promise<{ unfinished: number }> | undefined;
  const endDelay = new AbortController();
  return async (how: CloseOptions = {}): Promise<{ unfinished: number }> => {
    const delayMs = checkedDelay(how.delayMs ?? defaultDelayMs);
    // Only a `delayMs: 0` given ends it: a call naming none (a second hook) joins, whatever the default.
    if (how.signal?.aborted || (closed && how.delayMs === 0)) endDelay.abort();
    else how.signal?.addEventListener('abort', () => endDelay.abort(), { once: true });
    return (closed ??= run(delayMs, endDelay.signal));
  };
}

/**
 * The shutdown delay: nothing closes yet, so webhooks sent before the load balancer has noticed
 * `/readyz` are still answered. SHUTDOWN_TIMEOUT_MS counts from its end, so it takes no time from the drain.
 */
export async function delayClose(delayMs: number, signal: AbortSignal | undefined, logger: Logger): Promise<void> {
  if (delayMs === 0 || signal?.aborted) return;
  logger.info({ delayMs }, `shutdown delay: /readyz answers 503 and requests are still served for ${delayMs} ms (SHUTDOWN_DELAY_MS), so the load balancer stops sending before the port closes`);
  const ended = await sleep(delayMs, false, { signal }).catch(() => true);
  if (ended) logger.info('shutdown delay ended early: closing the port now');
}

/** Time, past the deadline, for the steps after the queue (counters, connections) to let go. */
const RELEASE_GRACE_MS = 1000;

export interface ClosingParts<T> {
  servers: Server[];
  adapters: readonly Adapter[];
  queue: JobQueue<T>;
  /** Jobs this process is running now: what is left unfinished if the queue never answers. */
  running(): number;
  /**
   * Settles once the messages this process is answering itself are done (those the queue could
   * not take, or is being offered again): waited for before the queue closes, since they may
   * still need it.
   */
  answeringHere?(): Promise<void>;
  /** How many of those are still being answered: unfinished too, though no queue counts them. */
  answeringHereLeft?(): number;
  /**
   * What would be lost if the process ended now (in memory only): named at error once closed, those
   * `apologise` posted to marked `apologised` (it is what an exit without close() names too).
   */
  lost?(): LostMessage[];
  /**
   * With time left once the queue has closed: the apology to the messages its drain did not start;
   * none is started once `timeUp` aborts (the deadline: close() goes on without it).
   */
  apologise?(timeUp: AbortSignal): Promise<void>;
  /** After the queue: ops, store, conversation log, tally. */
  release(): Promise<void>;
  /** Drop every connection at once (synchronous disconnects). */
  drop(): Promise<void>;
  logger: Logger;
}

export async function closeWithin<T>(parts: ClosingParts<T>, timeoutMs: number): Promise<{ unfinished: number }> {
  const { logger } = parts;
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(0, deadline - Date.now());
  const orderly = (async () => {
    // Stop every way in first (HTTP, Socket Mode), so nothing arrives at a closing queue.
    await Promise.all(parts.servers.map((server) => stopAccepting(server, Math.min(3000, left()))));
    await Promise.all(parts.adapters.map((adapter) => adapter.stop?.().catch((e: unknown) => logger.warn({ err: e }, 'adapter stop failed'))));
    if (parts.answeringHere) await Promise.race([parts.answeringHere(), new Promise((resolve) => setTimeout(resolve, left()).unref())]);
    const queued = await parts.queue.close(left());
    if (queued.unfinished > 0 && parts.apologise && left() > 0) await apologiseWithin(parts.apologise, left());
    const result = { unfinished: queued.unfinished + (parts.answeringHereLeft?.() ?? 0) };
    if (result.unfinished > 0) await abandonReplies(parts);
    await parts.release();
    return result;
  })();
  orderly.catch(() => undefined); // when it loses the race below
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), left() + RELEASE_GRACE_MS)));
  let result: { unfinished: number } | undefined;
  try {
    result = await Promise.race([orderly, late]);
  } finally {
    clearTimeout(timer);
    // The queue's own connections too: its orderly close may still be waiting on them.
    if (!result) {
      await abandonReplies(parts);
      parts.queue.drop?.();
    }
    await parts.drop();
  }
  const lost = parts.lost?.() ?? [];
  if (!result) {
    // A job cut short here is left to the queue's stalled-job recovery, as past the deadline anyway;
    // an in-memory queue's waiting jobs are not running, but lost with the process all the same.
    result = { unfinished: Math.max(parts.running(), lost.length) };
    logger.warn({ unfinished: result.unfinished, timeoutMs }, 'shutdown did not finish within SHUTDOWN_TIMEOUT_MS (jobs running to the end, or Redis or a store not answering): connections dropped');
  }
  if (lost.length > 0) logLost(logger, lost, { timeoutMs });
  else if (result.unfinished > 0) logger.warn({ unfinished: result.unfinished }, 'shut down with jobs unfinished');
  return result;
}

/** The apology pass, until it ends or `ms` pass: then it starts no more posts (close() resolves, the store is released). */
async function apologiseWithin(apologise: NonNullable<ClosingParts<unknown>['apologise']>, ms: number): Promise<void> {
  const timeUp = new AbortController();
  const timer = setTimeout(() => timeUp.abort(), ms).unref();
  const ended = new Promise((resolve) => timeUp.signal.addEventListener('abort', resolve, { once: true }));
  await Promise.race([apologise(timeUp.signal), ended]);
  clearTimeout(timer);
}

/** Replies left under way: each adapter closes what would stay open on its platform, within a second. */
async function abandonReplies(parts: Pick<ClosingParts<unknown>, 'adapters' | 'logger'>): Promise<void> {
  const abandoned = Promise.all(parts.adapters.map((adapter) => adapter.abandon?.().catch((e: unknown) => parts.logger.warn({ err: e }, 'adapter could not close its replies under way'))));
  await Promise.race([abandoned, new Promise((resolve) => setTimeout(resolve, RELEASE_GRACE_MS).unref())]);
}
