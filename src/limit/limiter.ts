import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export type LimitResult = { allowed: true } | { allowed: false; retryAfterMs: number };

/** A rate limit: `points` per `durationSeconds` for each key. */
export interface Limiter {
  consume(key: string, points?: number): Promise<LimitResult>;
  /** The limit itself, for a queue that checks it at its door (see JobQueue.admit); absent for a limiter of the developer's own. */
  rule?: { points: number; durationSeconds: number };
}

export interface LimitOptions {
  points: number;
  durationSeconds: number;
  /** Namespaces the keys so several limits can share one store. */
  keyPrefix: string;
}

/** rate-limiter-flexible's "rejects when over" turned into a plain result. */
export function asLimiter(limiter: RateLimiterAbstract, rule?: Limiter['rule']): Limiter {
  return {
    ...(rule ? { rule } : {}),
    async consume(key, points = 1) {
      try {
        await limiter.consume(key, points);
        return { allowed: true };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return { allowed: false, retryAfterMs: rejection.msBeforeNext };
        throw rejection;
      }
    },
  };
}

/** The default limiter: rate-limiter-flexible in this process's memory. */
export function createMemoryLimiter(options: LimitOptions): Limiter {
  return asLimiter(new RateLimiterMemory({ points: options.points, duration: options.durationSeconds, keyPrefix: options.keyPrefix }), ruleOf(options));
}

export function ruleOf(options: LimitOptions): NonNullable<Limiter['rule']> {
  return { points: options.points, durationSeconds: options.durationSeconds };
}

/** A limiter that never limits, for a limit set to 0 (off). */
export const unlimited: Limiter = { consume: async () => ({ allowed: true }) };
