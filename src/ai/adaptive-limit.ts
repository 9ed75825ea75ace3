/**
 * How many AI calls may run at once, adapted to what the provider tolerates (AIMD, as TCP does):
 * a 429 halves the limit and blocks new calls for as long as the provider asked; each success
 * adds 1/limit, so the limit grows back by one per "round" of successful calls.
 * The memory version serves one process; RedisAdaptiveLimit shares one limit between processes.
 */

/** A slot to call the AI in, or how long to wait before asking again. */
export type Admission = { token: string } | { waitMs: number; throttledSince?: number };

export type CallOutcome =
  | { kind: 'ok' }
  | { kind: 'throttled'; retryAfterMs: number }
  /** Failed for another reason (5xx, timeout...): the slot is freed, the limit unchanged. */
  | { kind: 'failed' };

export interface AdaptiveLimitState {
  limit: number;
  inFlight: number;
  /** Epoch ms until which no new call may start; 0 when not blocked. */
  blockedUntil: number;
  /** Epoch ms of the first 429 of the current throttling stretch; undefined when not throttled. */
  throttledSince?: number;
}

export interface AdaptiveLimit {
  /** Take a slot now, or learn how long to wait (blocked by a 429, or every slot taken). */
  tryAcquire(): Promise<Admission>;
  /** Give the slot back, saying how the call went. */
  release(token: string, outcome: CallOutcome): Promise<void>;
  state(): Promise<AdaptiveLimitState>;
}

export interface AdaptiveLimitOptions {
  /** The most calls at once (AI_MAX_CONCURRENT): the limit never grows past it. */
  max: number;
  /** How long a slot is held at most (a crashed holder's slot frees itself after it). */
  leaseMs: number;
}

/** How long to wait when every slot is taken: short, since slots free up as calls finish. */
export const BUSY_POLL_MS = 25;
/** Used when a 429 names no Retry-After. */
export const DEFAULT_THROTTLE_MS = 1000;
/** A throttle that ended longer ago than this does not make a new one "long". */
export const THROTTLE_GAP_MS = 60_000;
/**
 * The longest a provider's Retry-After blocks calls: a day, as long as the shared state lives in
 * Redis. A server asking for years (a misconfigured gateway) must not silence the bot until a restart.
 */
export const MAX_THROTTLE_MS = 24 * 60 * 60 * 1000;

/** The limit in this process only. */
export class MemoryAdaptiveLimit implements AdaptiveLimit {
  private limit: number;
  private readonly held = new Map<string, number>();
  private blockedUntil = 0;
  private throttledSince: number | undefined;
  private lastDecreaseAt = 0;
  private next = 0;

  constructor(private readonly options: AdaptiveLimitOptions) {
    this.limit = options.max;
  }

  async tryAcquire(now = Date.now()): Promise<Admission> {
    if (this.blockedUntil > now) return blocked(this.blockedUntil - now, this.throttledSince);
    for (const [token, expiresAt] of this.held) if (expiresAt <= now) this.held.delete(token);
    if (this.held.size >= Math.floor(this.limit)) return { waitMs: BUSY_POLL_MS };
    const token = String(++this.next);
    this.held.set(token, now + this.options.leaseMs);
    return { token };
  }

  async release(token: string, outcome: CallOutcome, now = Date.now()): Promise<void> {
    this.held.delete(token);
    if (outcome.kind === 'ok') {
      this.limit = Math.min(this.options.max, this.limit + 1 / Math.max(1, Math.floor(this.limit)));
      if (this.blockedUntil <= now) this.throttledSince = undefined;
    } else if (outcome.kind === 'throttled') {
      // Calls that were in flight together all see the same 429: halve once per throttle, not once per call.
      if (now >= Math.max(this.lastDecreaseAt + DEFAULT_THROTTLE_MS, this.blockedUntil)) {
        this.limit = Math.max(1, this.limit / 2);
        this.lastDecreaseAt = now;
      }
      if (this.throttledSince === undefined || this.blockedUntil < now - THROTTLE_GAP_MS) this.throttledSince = now;
      this.blockedUntil = Math.max(this.blockedUntil, now + outcome.retryAfterMs);
    }
  }

  async state(): Promise<AdaptiveLimitState> {
    const state: AdaptiveLimitState = { limit: this.limit, inFlight: this.held.size, blockedUntil: this.blockedUntil > Date.now() ? this.blockedUntil : 0 };
    if (this.throttledSince !== undefined) state.throttledSince = this.throttledSince;
    return state;
  }
}

/** The answer while a 429's Retry-After is running: with when the throttling began, for the fallback. */
export function blocked(waitMs: number, throttledSince: number | undefined): Admission {
  return throttledSince === undefined ? { waitMs } : { waitMs, throttledSince };
}
