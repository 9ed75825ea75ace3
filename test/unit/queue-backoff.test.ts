import { afterEach, describe, expect, it, vi } from 'vitest';
import { PermanentError, RetryAfterError } from '../../src/adapter.js';
import { errorText, isPermanent, retryDelayMs } from '../../src/queue/index.js';

const options = { attempts: 5, backoffMs: 100, maxBackoffMs: 1000 };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('retryDelayMs', () => {
  it('doubles per attempt with equal jitter: between half and all of the exponential delay', () => {
    for (const [attempt, exponential] of [
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 800],
    ] as const) {
      for (let i = 0; i < 50; i++) {
        const delay = retryDelayMs(attempt, options);
        expect(delay).toBeGreaterThanOrEqual(exponential / 2);
        expect(delay).toBeLessThanOrEqual(exponential);
      }
    }
  });

  it('uses the random draw for the jittered half', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(retryDelayMs(3, options)).toBe(200);
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    expect(retryDelayMs(3, options)).toBe(300);
  });

  it('spreads delays out (not lockstep)', () => {
    const delays = new Set(Array.from({ length: 30 }, () => retryDelayMs(4, options)));
    expect(delays.size).toBeGreaterThan(5);
  });

  it('never exceeds maxBackoffMs, even for a late attempt', () => {
    for (const attempt of [5, 10, 50, 2000]) {
      const delay = retryDelayMs(attempt, options);
      expect(delay).toBeGreaterThanOrEqual(500);
      expect(delay).toBeLessThanOrEqual(1000);
    }
  });

  it('waits at least as long as a RetryAfterError asks (up to maxBackoffMs)', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(retryDelayMs(1, options, new RetryAfterError('429', 700))).toBe(700);
    expect(retryDelayMs(1, options, new RetryAfterError('429', 5000))).toBe(1000);
  });

  it('a short Retry-After does not shorten the backoff', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(retryDelayMs(4, options, new RetryAfterError('429', 10))).toBe(400);
  });

  it('ignores a retryAfterMs-like field on errors that are not RetryAfterError', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const lookalike = Object.assign(new Error('x'), { retryAfterMs: 900 });
    expect(retryDelayMs(1, options, lookalike)).toBe(50);
  });

  it('is 0 when backoff is 0', () => {
    expect(retryDelayMs(3, { attempts: 3, backoffMs: 0, maxBackoffMs: 1000 })).toBe(0);
  });
});

describe('isPermanent / errorText', () => {
  it('only PermanentError is permanent', () => {
    expect(isPermanent(new PermanentError('window closed', 'outside_window'))).toBe(true);
    expect(isPermanent(new RetryAfterError('slow down', 10))).toBe(false);
    expect(isPermanent(new Error('boom'))).toBe(false);
    expect(isPermanent('boom')).toBe(false);
  });

  it('describes errors with their name, and anything else as a string', () => {
    expect(errorText(new PermanentError('window closed', 'outside_window'))).toBe('PermanentError: window closed');
    expect(errorText(new TypeError('bad'))).toBe('TypeError: bad');
    expect(errorText('plain')).toBe('plain');
    expect(errorText(42)).toBe('42');
  });
});
