/** withinLimit: the AI call under the adaptive limit, and what a failed release does to an answer in hand. */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AdaptiveLimit } from '../../src/ai/adaptive-limit.js';
import { withinLimit } from '../../src/ai/admission.js';

describe('withinLimit', () => {
  it("a provider rate limiting call after call is logged once (then once a minute), and the call that gets through says it is over", async () => {
    const { AiError } = await import('../../src/ai/errors.js');
    const lines: { msg: string; status?: number; rateLimitedSeconds?: number }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    // Slots always free: each 429 is waited out (not at all here) and the call goes out again.
    const limit = { tryAcquire: async () => ({ token: 't' }), release: async () => undefined } as unknown as AdaptiveLimit;
    let calls = 0;
    const answer = await withinLimit(
      limit,
      async () => {
        if (++calls <= 20) throw new AiError('rate_limited', 'busy', { status: 429, retryAfterMs: 1 });
        return 'the answer';
      },
      { maxInlineWaitMs: 60_000, logger },
    );
    expect(answer).toBe('the answer');
    expect(calls).toBe(21);
    expect(lines.map(({ msg, status }) => ({ msg, status }))).toEqual([
      { msg: 'AI provider is rate limiting; waiting as it asked', status: 429 },
      { msg: 'AI provider no longer rate limiting: a call got through', status: undefined },
    ]);
    expect(lines[1]!.rateLimitedSeconds).toBeGreaterThanOrEqual(0);
    // The next call, through at once, says nothing.
    await withinLimit(limit, async () => 'again', { maxInlineWaitMs: 1000, logger });
    expect(lines).toHaveLength(2);
  });

  it('an answer in hand survives a release that fails (Redis gone mid-call): the answer is returned, the failure logged', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    let released = 0;
    const limit: AdaptiveLimit = {
      tryAcquire: async () => ({ token: 't1' }),
      release: async () => {
        released++;
        throw new Error('Connection is closed.');
      },
      state: async () => ({ limit: 1, inFlight: 1, blockedUntil: 0 }),
    } as unknown as AdaptiveLimit;
    await expect(withinLimit(limit, async () => 'the answer', { maxInlineWaitMs: 1000, logger })).resolves.toBe('the answer');
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(1);
    expect(lines.join('')).toMatch(/could not release an AI slot/);
  });

  it('a 429 saying Retry-After: 0 is not retried in a tight loop: it waits, and gives up once the inline wait is spent', async () => {
    const { MemoryAdaptiveLimit } = await import('../../src/ai/adaptive-limit.js');
    const { AiError } = await import('../../src/ai/errors.js');
    const limit = new MemoryAdaptiveLimit({ max: 4, leaseMs: 60_000 });
    let calls = 0;
    const started = Date.now();
    const outcome = await withinLimit(
      limit,
      async () => {
        calls++;
        throw new AiError('rate_limited', 'busy', { status: 429, retryAfterMs: 0 });
      },
      { maxInlineWaitMs: 600 },
    ).catch((error: unknown) => error);
    expect(outcome).toMatchObject({ kind: 'rate_limited' });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(4);
  });

  it('asks `admit` (the calls-per-minute limit) once per call, only with a slot held; a refusal gives the slot back and makes no call', async () => {
    const { MemoryAdaptiveLimit } = await import('../../src/ai/adaptive-limit.js');
    const { AiError } = await import('../../src/ai/errors.js');
    const limit = new MemoryAdaptiveLimit({ max: 1, leaseMs: 60_000 });
    let admits = 0;
    let calls = 0;
    const admit = async () => {
      admits++;
      if (admits > 1) throw new AiError('rate_limited', 'the AI calls-per-minute limit is reached', { retryAfterMs: 30_000 });
    };
    // A 429 waited out inline is the same call going out again: it is not asked twice.
    const answer = await withinLimit(
      limit,
      async () => {
        if (++calls === 1) throw new AiError('rate_limited', 'busy', { status: 429, retryAfterMs: 50 });
        return 'the answer';
      },
      { maxInlineWaitMs: 1000, admit },
    );
    expect({ answer, calls, admits }).toEqual({ answer: 'the answer', calls: 2, admits: 1 });
    const refused = await withinLimit(limit, async () => ++calls, { maxInlineWaitMs: 1000, admit }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ kind: 'rate_limited', retryAfterMs: 30_000 });
    expect(calls).toBe(2);
    expect((await limit.state()).inFlight).toBe(0);
  });
});
