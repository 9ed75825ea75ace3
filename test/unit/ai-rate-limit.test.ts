import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RetryAfterError } from '../../src/adapter.js';
import type { AiClient, AiResult, AiStream } from '../../src/ai/index.js';
import { limitAiCalls } from '../../src/ai-rate-limit.js';
import { createMemoryLimiter } from '../../src/limit/index.js';

const answer: AiResult = { text: 'hello', model: 'test', usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 } } as AiResult;

/** An AI client whose stream yields two chunks, or fails after the first. */
function streamingAi(fail: boolean): AiClient {
  return {
    circuit: 'closed',
    reply: async () => answer,
    stream(): AiStream {
      const result = fail ? Promise.reject(new Error('the AI failed mid-stream')) : Promise.resolve(answer);
      result.catch(() => undefined); // as the real clients do: the chunks' consumer sees the error
      return {
        chunks: (async function* () {
          yield 'hel';
          if (fail) throw new Error('the AI failed mid-stream');
          yield 'lo';
        })(),
        result,
      };
    },
  };
}

async function drain(stream: AiStream): Promise<string> {
  let text = '';
  for await (const chunk of stream.chunks) text += chunk;
  return text;
}

describe('the AI calls-per-minute limit on a stream', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

  it('streams within the limit, and defers the call over it without an unhandled rejection', async () => {
    const ai = limitAiCalls(streamingAi(false), createMemoryLimiter({ points: 1, durationSeconds: 60, keyPrefix: 'ai-test' }));
    const first = ai.stream!({ conversationId: 'c', history: [], text: 'hi' });
    expect(await drain(first)).toBe('hello');
    expect((await first.result).text).toBe('hello');
    // The consumer reads the chunks, sees the deferral there, and never reads `result` (as parley's budget wrapper does).
    const second = ai.stream!({ conversationId: 'c', history: [], text: 'hi' });
    const error = await drain(second).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetryAfterError);
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('passes a stream that fails mid-way to the consumer without an unhandled rejection', async () => {
    const ai = limitAiCalls(streamingAi(true), createMemoryLimiter({ points: 10, durationSeconds: 60, keyPrefix: 'ai-test' }));
    const stream = ai.stream!({ conversationId: 'c', history: [], text: 'hi' });
    await expect(drain(stream)).rejects.toThrow('the AI failed mid-stream');
    await settle();
    expect(unhandled).toEqual([]);
    await expect(stream.result).rejects.toThrow('the AI failed mid-stream');
  });
});

describe('the AI calls-per-minute limit and the cache', () => {
  it('an answer the cache already holds is given without taking from the limit', async () => {
    const cached = new Set<string>();
    let calls = 0;
    const ai: AiClient = {
      circuit: 'closed',
      hasCached: async (request) => cached.has(request.text),
      reply: async (request) => {
        if (!cached.has(request.text)) calls++;
        cached.add(request.text);
        return answer;
      },
    };
    const limited = limitAiCalls(ai, createMemoryLimiter({ points: 1, durationSeconds: 60, keyPrefix: `cache-${Math.random()}` }));
    const ask = (text: string) => limited.reply({ conversationId: 'c', history: [], text });
    await ask('the same question');
    // The one call of the minute is spent: the same question again comes from the cache.
    await expect(ask('the same question')).resolves.toBe(answer);
    await expect(ask('the same question')).resolves.toBe(answer);
    await expect(ask('another question')).rejects.toBeInstanceOf(RetryAfterError);
    expect(calls).toBe(1);
  });
});
