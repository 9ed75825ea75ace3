/**
 * The signals an AI attempt hands the SDK are freed with the call. The OpenAI SDK adds an 'abort'
 * listener to the signal it is given and never removes it, and Node 20 keeps an AbortSignal.any()
 * that has ever had a listener for the life of the process: each AI call leaked some 2 KB (found by
 * a heap audit of a long run). The signals still abort on the caller's cancel and on a timeout.
 */
import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ResiliencePolicy, type Attempt } from '../../src/ai/resilience.js';
import { AiError } from '../../src/ai/errors.js';
import { openChannel } from '../../src/ai/channel.js';

const settings = { attempts: 2, initialBackoffMs: 1, maxBackoffMs: 5, attemptTimeoutMs: 5_000, deadlineMs: 10_000, breakerThreshold: 100, breakerHalfOpenAfterMs: 1_000 };

/** What the SDK does with the signal it is given: listens, and never lets go. */
function likeTheSdk(attempt: Attempt): void {
  const controller = new AbortController();
  attempt.signal.addEventListener('abort', () => controller.abort());
}

/** Wait until `signal` aborts (the attempt is cancelled), then fail as a cancelled request does. */
const untilAborted = (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));

describe('AI attempt signals', () => {
  it('are collected once the call is over, listener and all, with a caller signal, and after a retry', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const policy = new ResiliencePolicy(settings);
    let collected = 0;
    const registry = new FinalizationRegistry(() => void collected++);
    const CALLS = 200;
    for (let i = 0; i < CALLS; i++) {
      let tries = 0;
      const caller = new AbortController();
      await policy.execute(async (attempt) => {
        likeTheSdk(attempt);
        registry.register(attempt.signal, i);
        if (i % 4 === 0 && tries++ === 0) throw new AiError('server', 'provider 503');
        return i;
      }, i % 2 === 0 ? caller.signal : undefined);
    }
    for (let round = 0; round < 50 && collected < CALLS; round++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(collected).toBeGreaterThanOrEqual(CALLS);
  });

  it('still abort a running attempt when the caller cancels, and on the attempt timeout', async () => {
    const policy = new ResiliencePolicy(settings);
    const caller = new AbortController();
    const cancelled = policy.execute((attempt) => untilAborted(attempt.signal), caller.signal);
    setTimeout(() => caller.abort(new Error('job cancelled')), 20);
    await expect(cancelled).rejects.toMatchObject({ name: 'AiError', kind: 'aborted' });

    const quick = new ResiliencePolicy({ ...settings, attempts: 1, attemptTimeoutMs: 30 });
    await expect(quick.execute((attempt) => untilAborted(attempt.signal))).rejects.toMatchObject({ name: 'AiError', kind: 'timeout' });
  });

  it('let go of a long-lived caller signal when each call ends (no listener piles up on it)', async () => {
    const shared = new AbortController().signal; // e.g. one signal an embedder passes to every call
    const policy = new ResiliencePolicy(settings);
    for (let i = 0; i < 50; i++) {
      await policy.execute(async (attempt) => (likeTheSdk(attempt), i), shared);
      const { channel } = openChannel(shared);
      await channel.settle(Promise.resolve(i));
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(getEventListeners(shared, 'abort')).toHaveLength(0);
  });
});
