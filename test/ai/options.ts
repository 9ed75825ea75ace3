import type { AiOptions } from '../../src/ai/index.js';
import { defaultPrices } from '../../src/ai/index.js';

/** Options with small waits so the suite stays fast; tests override what they exercise. */
export function testOptions(overrides: Partial<AiOptions> = {}): AiOptions {
  return {
    baseURL: 'http://127.0.0.1:1/v1',
    model: 'gpt-4o-mini',
    systemPrompt: 'You are terse.',
    maxOutputTokens: 200,
    attempts: 3,
    initialBackoffMs: 10,
    maxBackoffMs: 2_000,
    attemptTimeoutMs: 2_000,
    deadlineMs: 5_000,
    breakerThreshold: 100,
    breakerHalfOpenAfterMs: 1_000,
    maxConcurrent: 8,
    maxInlineWaitMs: 5_000,
    cacheTtlSeconds: 0,
    prices: defaultPrices,
    ...overrides,
  };
}

export const request = (text = 'Hello?', history: AiRequestHistory = []) => ({ conversationId: 'c1', history, text });
type AiRequestHistory = Array<{ role: 'user' | 'assistant'; text: string; at: string }>;
