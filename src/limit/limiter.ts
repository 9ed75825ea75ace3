import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export type LimitResult = { allowed: true } | { allowed: false; retryAfterMs: number };

/** A rate limit: `points` per `durationSeconds` for each key. */
export interface Limiter {
  consume(key: string, points?: number): Promise<LimitResult>;
}

export interface LimitOptions {
  points: number;
  durationSeconds: number;
  /** Namespaces the keys so several limits can share one store. */
  keyPrefix: string;
}

/** The default limiter: rate-limiter-flexible in this process's memory. */
export function createMemoryLimiter(options: LimitOptions): Limiter {
  const limiter = new RateLimiterMemory({
    points: options.points,
    duration: options.durationSeconds,
    keyPrefix: options.keyPrefix,
  });
  return {
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

/** A limiter that never limits, for a limit set to 0 (off). */
export const unlimited: Limiter = { consume: async () => ({ allowed: true }) };
