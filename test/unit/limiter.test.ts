import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryLimiter, unlimited } from '../../src/limit/index.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('createMemoryLimiter', () => {
  it('allows `points` per window for a key, then refuses with a retry-after within the window', async () => {
    const limiter = createMemoryLimiter({ points: 3, durationSeconds: 60, keyPrefix: 'test-a' });
    for (let i = 0; i < 3; i++) expect(await limiter.consume('user-1')).toEqual({ allowed: true });
    const refused = await limiter.consume('user-1');
    expect(refused.allowed).toBe(false);
    if (refused.allowed) return;
    expect(refused.retryAfterMs).toBeGreaterThan(55_000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('keeps separate budgets per key', async () => {
    const limiter = createMemoryLimiter({ points: 1, durationSeconds: 60, keyPrefix: 'test-b' });
    expect((await limiter.consume('slack:u1')).allowed).toBe(true);
    expect((await limiter.consume('slack:u1')).allowed).toBe(false);
    expect((await limiter.consume('slack:u2')).allowed).toBe(true);
    expect((await limiter.consume('whatsapp:u1')).allowed).toBe(true);
  });

  it('counts weighted consumption', async () => {
    const limiter = createMemoryLimiter({ points: 5, durationSeconds: 60, keyPrefix: 'test-c' });
    expect((await limiter.consume('k', 3)).allowed).toBe(true);
    expect((await limiter.consume('k', 3)).allowed).toBe(false);
    const other = createMemoryLimiter({ points: 5, durationSeconds: 60, keyPrefix: 'test-c2' });
    expect((await other.consume('k', 6)).allowed).toBe(false);
  });

  it('allows again once the window has passed, and the retry-after shrinks meanwhile', async () => {
    vi.useFakeTimers();
    const limiter = createMemoryLimiter({ points: 1, durationSeconds: 10, keyPrefix: 'test-d' });
    expect((await limiter.consume('k')).allowed).toBe(true);
    const first = await limiter.consume('k');
    vi.advanceTimersByTime(6_000);
    const later = await limiter.consume('k');
    expect(first.allowed).toBe(false);
    expect(later.allowed).toBe(false);
    if (first.allowed || later.allowed) return;
    expect(later.retryAfterMs).toBeLessThanOrEqual(first.retryAfterMs - 5_000);
    vi.advanceTimersByTime(4_001);
    expect((await limiter.consume('k')).allowed).toBe(true);
  });

  it('limiters with different prefixes do not share counts', async () => {
    const a = createMemoryLimiter({ points: 1, durationSeconds: 60, keyPrefix: 'test-e1' });
    const b = createMemoryLimiter({ points: 1, durationSeconds: 60, keyPrefix: 'test-e2' });
    expect((await a.consume('same')).allowed).toBe(true);
    expect((await b.consume('same')).allowed).toBe(true);
    expect((await a.consume('same')).allowed).toBe(false);
  });
});

describe('unlimited', () => {
  it('never refuses', async () => {
    for (let i = 0; i < 1000; i++) expect(await unlimited.consume('k', 100)).toEqual({ allowed: true });
  });
});
