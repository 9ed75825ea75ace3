import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/ai/backoff.js';
import { duration, rateLimitResetMs } from '../../src/ai/retry-after.js';
import { costOf, defaultPrices, retryAfterMs } from '../../src/ai/index.js';

describe('retryAfterMs', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');

  it('reads delta-seconds, HTTP dates and retry-after-ms', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }), now)).toBe(2_000);
    expect(retryAfterMs(new Headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 01 May 2024 12:00:05 GMT' }), now)).toBe(5_000);
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
  });

  it('treats a past date as no wait and ignores garbage', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 01 May 2024 11:59:00 GMT' }), now)).toBe(0);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers({ 'retry-after': '-3' }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});

describe('x-ratelimit-reset-* (OpenAI writes Go durations)', () => {
  it('reads hours, minutes, seconds and fractions of them; anything else is unreadable', () => {
    expect([duration('1s'), duration('6m0s'), duration('20ms'), duration('1h2m3.5s'), duration('0s'), duration('17.28s'), duration('1.5µs')]).toEqual([1_000, 360_000, 20, 3_723_500, 0, 17_280, 1]);
    for (const garbage of ['', '5', 'soon', '-1s', '1d', '1s ago', null, undefined]) expect(duration(garbage)).toBeUndefined();
  });

  it('a reset of 0, or none readable, says nothing', () => {
    expect(rateLimitResetMs(new Headers({ 'x-ratelimit-reset-requests': '0s', 'x-ratelimit-reset-tokens': 'later' }))).toBeUndefined();
    expect(rateLimitResetMs(new Headers({ 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '0s' }))).toBe(0);
    expect(rateLimitResetMs(new Headers())).toBeUndefined();
  });
});

describe('retryDelayMs', () => {
  const settings = { initialBackoffMs: 100, maxBackoffMs: 1_000 };

  it('grows exponentially with jitter between half and the full step', () => {
    expect(retryDelayMs(settings, 1, undefined, 10_000, () => 0)).toBe(50);
    expect(retryDelayMs(settings, 1, undefined, 10_000, () => 1)).toBe(100);
    expect(retryDelayMs(settings, 3, undefined, 10_000, () => 1)).toBe(400);
    expect(retryDelayMs(settings, 10, undefined, 10_000, () => 1)).toBe(1_000);
  });

  it('waits at least the server-requested time, capped by maxBackoffMs and the deadline', () => {
    expect(retryDelayMs(settings, 1, 700, 10_000, () => 0)).toBe(700);
    expect(retryDelayMs(settings, 1, 5_000, 10_000, () => 0)).toBe(1_000);
    expect(retryDelayMs(settings, 1, 700, 300, () => 0)).toBe(300);
  });
});

describe('costOf', () => {
  it('prices per million tokens, matching dated snapshots to their base model', () => {
    expect(costOf(defaultPrices, 'gpt-4o', 1_000_000, 1_000_000)).toBe(12.5);
    expect(costOf(defaultPrices, 'gpt-4.1-mini-2025-04-14', 1_000_000, 0)).toBe(0.4);
    expect(costOf(defaultPrices, 'gpt-4.1-2025-04-14', 0, 1_000_000)).toBe(8);
    expect(costOf(defaultPrices, 'gpt-4o-mini-2024-07-18', 2_000_000, 0)).toBeCloseTo(0.3, 10);
  });

  it('is 0 for unknown models', () => {
    expect(costOf(defaultPrices, 'llama3.2', 1_000, 1_000)).toBe(0);
    expect(costOf(defaultPrices, 'gpt-4omni', 1_000, 1_000)).toBe(0);
  });

  it("prices another model of a family at its own price, or none: never at the family's base model's", () => {
    expect(costOf(defaultPrices, 'gpt-4.1-nano', 1_000_000, 1_000_000)).toBeCloseTo(0.5, 10);
    expect(costOf(defaultPrices, 'gpt-4.1-nano-2025-04-14', 1_000_000, 0)).toBeCloseTo(0.1, 10);
    expect(costOf(defaultPrices, 'gpt-4o-realtime-preview', 1_000, 1_000)).toBe(0);
    expect(costOf({ 'gpt-4': { input: 30, output: 60 } }, 'gpt-4-0613', 1_000_000, 0)).toBe(30);
  });
});
