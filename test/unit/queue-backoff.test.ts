import { afterEach, describe, expect, it, vi } from 'vitest';
import { PermanentError, RetryAfterError } from '../../src/adapter.js';
import { MAX_ERROR_TEXT } from '../../src/queue/backoff.js';
import { errorText, isPermanent, retryDelayMs } from '../../src/queue/index.js';
import { rememberSecrets, urlPassword } from '../../src/secret-values.js';

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

  it("keeps at most MAX_ERROR_TEXT characters of a long one (a provider's error page), saying how many were left out", () => {
    const text = errorText(new Error(`AI provider answered 502 <html>${'y'.repeat(2_000_000)}</html>`));
    expect(text.startsWith('Error: AI provider answered 502 <html>yyy')).toBe(true);
    const left = 'Error: AI provider answered 502 <html>'.length + 2_000_000 + '</html>'.length - MAX_ERROR_TEXT;
    expect(text).toBe(`${text.slice(0, MAX_ERROR_TEXT)}… (${left} more characters left out)`);
  });

  it("hides secrets in a short one too: a platform's error quoting a token, a URL with its password", () => {
    const token = 'sk-short-dead-letter-secret-42';
    rememberSecrets(token, ...urlPassword('redis://parley:hunter2-dead-letter@db.example.com:6379'));
    const echoed = errorText(new Error(`401 Unauthorized: Authorization: Bearer ${token}`));
    expect(echoed).toBe('Error: 401 Unauthorized: Authorization: Bearer <hidden>');
    expect(errorText(new Error('connect failed: redis://parley:hunter2-dead-letter@db.example.com:6379'))).toBe('Error: connect failed: redis://parley:<hidden>@db.example.com:6379');
    // A Slack token by its shape, never configured (an OAuth install's), and a thrown string.
    expect(errorText('invalid_auth for xoxb-1234-5678-abcdefgh')).toBe('invalid_auth for <hidden>');
  });

  it('hides a secret the cut would split, and never cuts a character in two', () => {
    const secret = 'sk-dead-letter-cut-secret-0123456789';
    rememberSecrets(secret);
    const split = errorText(new Error(`${'m'.repeat(MAX_ERROR_TEXT - 20)}${secret}${'n'.repeat(10_000)}`));
    expect(split).not.toContain(secret.slice(0, 8));
    const emoji = errorText(new Error(`${'e'.repeat(MAX_ERROR_TEXT - 10)}${'\u{1F600}'.repeat(5000)}`));
    expect(emoji.includes('\ud83d…')).toBe(false);
    expect(emoji).toMatch(/^Error: e+(\u{1F600})+… \(\d+ more characters left out\)$/u);
  });
});
