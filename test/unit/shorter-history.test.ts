/**
 * A model that refuses a request as longer than it reads is asked again with the newest half of
 * the history, then with none; other failures, and a refusal after text was shown, are not.
 */
import { describe, expect, it } from 'vitest';
import { AiError, replyFittingContext, streamFittingContext, type AiClient, type AiRequest, type AiResult, type AiStream } from '../../src/ai/index.js';
import type { Turn } from '../../src/message.js';

const tooLong = () => new AiError('client', "This model's maximum context length is 8192 tokens", { status: 400, cause: { code: 'context_length_exceeded' } });
const turns = (n: number): Turn[] => Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', text: `turn ${i}`, at: new Date(i).toISOString() }));
const request = (history: Turn[]): AiRequest => ({ conversationId: 'c1', history, text: 'the question' });
const answer = (text: string): AiResult => ({ text, model: 'm' }) as AiResult;

/** An AI that refuses any request with more than `fits` turns of history, and records what it was asked. */
function smallModel(fits: number, refusal: () => Error = tooLong) {
  const asked: Turn[][] = [];
  const ai = {
    async reply(r: AiRequest) {
      asked.push(r.history);
      if (r.history.length > fits) throw refusal();
      return answer(`answered with ${r.history.length}`);
    },
    stream(r: AiRequest): AiStream {
      asked.push(r.history);
      const refused = r.history.length > fits;
      const text = `answered with ${r.history.length}`;
      const result = refused ? Promise.reject(refusal()) : Promise.resolve(answer(text));
      result.catch(() => undefined);
      return {
        result,
        chunks: (async function* () {
          if (refused) throw refusal();
          yield text;
        })(),
      };
    },
  } as unknown as AiClient & { stream: (r: AiRequest) => AiStream };
  return { ai, asked };
}

async function collect(stream: AiStream): Promise<string> {
  let text = '';
  for await (const chunk of stream.chunks) text += chunk;
  return text;
}

describe('replyFittingContext', () => {
  it('asks again with the newest half of the history, then with none', async () => {
    const half = smallModel(4);
    expect((await replyFittingContext(half.ai, request(turns(8)))).text).toBe('answered with 4');
    expect(half.asked.map((h) => h.map((t) => t.text))).toEqual([turns(8).map((t) => t.text), ['turn 4', 'turn 5', 'turn 6', 'turn 7']]);

    const none = smallModel(0);
    expect((await replyFittingContext(none.ai, request(turns(8)))).text).toBe('answered with 0');
    expect(none.asked.map((h) => h.length)).toEqual([8, 4, 0]);
  });

  it('starts the newest half at a user turn: an answer whose question was cut off is left out', async () => {
    // Strict chat templates (Mistral, Gemma on vLLM) refuse a history that begins with an answer.
    const half = smallModel(2);
    expect((await replyFittingContext(half.ai, request(turns(6)))).text).toBe('answered with 2');
    expect(half.asked.map((h) => h.map((t) => t.text))).toEqual([turns(6).map((t) => t.text), ['turn 4', 'turn 5']]);
    // A question and its answer: the half would be the answer alone, so none is tried next.
    const pair = smallModel(-1);
    await expect(replyFittingContext(pair.ai, request(turns(2)))).rejects.toThrow(/maximum context length/);
    expect(pair.asked.map((h) => h.length)).toEqual([2, 0]);
  });

  it('passes the refusal on when the message alone is too long, after one call without history', async () => {
    const tiny = smallModel(-1);
    await expect(replyFittingContext(tiny.ai, request(turns(4)))).rejects.toThrow(/maximum context length/);
    expect(tiny.asked.map((h) => h.length)).toEqual([4, 2, 0]);
    const noHistory = smallModel(-1);
    await expect(replyFittingContext(noHistory.ai, request([]))).rejects.toThrow(/maximum context length/);
    expect(noHistory.asked).toHaveLength(1);
  });

  it('does not ask again for any other failure', async () => {
    const other = smallModel(0, () => new AiError('client', "Invalid value for 'temperature'", { status: 400 }));
    await expect(replyFittingContext(other.ai, request(turns(4)))).rejects.toThrow(/temperature/);
    expect(other.asked).toHaveLength(1);
  });
});

describe('streamFittingContext', () => {
  it('starts again with less history when refused before any text, and its result is the answered stream’s', async () => {
    const { ai, asked } = smallModel(1);
    const stream = streamFittingContext((r) => ai.stream(r), request(turns(4)));
    expect(await collect(stream)).toBe('answered with 0');
    expect((await stream.result).text).toBe('answered with 0');
    expect(asked.map((h) => h.length)).toEqual([4, 2, 0]);
  });

  it('passes on a refusal that came after text, and any other failure, without starting again', async () => {
    let starts = 0;
    const afterText = streamFittingContext(() => {
      starts++;
      const result = Promise.reject(tooLong());
      result.catch(() => undefined);
      return {
        result,
        chunks: (async function* () {
          yield 'half an answer';
          throw tooLong();
        })(),
      };
    }, request(turns(4)));
    await expect(collect(afterText)).rejects.toThrow(/maximum context length/);
    await expect(afterText.result).rejects.toThrow(/maximum context length/);
    expect(starts).toBe(1);

    const { ai, asked } = smallModel(0, () => new AiError('server', 'bad gateway', { status: 502 }));
    const other = streamFittingContext((r) => ai.stream(r), request(turns(4)));
    await expect(collect(other)).rejects.toThrow(/bad gateway/);
    await expect(other.result).rejects.toThrow(/bad gateway/);
    expect(asked).toHaveLength(1);
  });

  it('leaves no unhandled rejection when the consumer never reads the result of a failed stream', async () => {
    const unhandled: unknown[] = [];
    const note = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', note);
    try {
      const { ai } = smallModel(0, () => new AiError('client', 'bad request', { status: 400 }));
      const stream = streamFittingContext((r) => ai.stream(r), request(turns(2)));
      await expect(collect(stream)).rejects.toThrow(/bad request/);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', note);
    }
  });

  it('waits (as for an open circuit) when the provider fails the shorter request, instead of failing the message', async () => {
    const down = () => new AiError('server', 'AI provider answered 500', { status: 500 });
    // Refuses the long request at its front door, fails anything it would run: a provider outage.
    const outage = {
      reply: async (r: AiRequest) => {
        throw r.history.length > 1 ? tooLong() : down();
      },
      stream: (r: AiRequest): AiStream => {
        const result = Promise.reject(r.history.length > 1 ? tooLong() : down());
        result.catch(() => undefined);
        return { result, chunks: (async function* () { yield* []; await result; })() };
      },
    } as unknown as AiClient & { stream: (r: AiRequest) => AiStream };
    const waited = await replyFittingContext(outage, request(turns(4))).catch((error: unknown) => error);
    expect(waited).toBeInstanceOf(AiError);
    expect(waited).toMatchObject({ kind: 'circuit_open', isWait: true, retryAfterMs: 5000 });
    const streamed = await collect(streamFittingContext((r) => outage.stream(r), request(turns(4)))).catch((error: unknown) => error);
    expect(streamed).toMatchObject({ kind: 'circuit_open', isWait: true });
    // The first request failing is the usual failure, not a wait.
    const first = await replyFittingContext(outage, request(turns(1))).catch((error: unknown) => error);
    expect(first).toMatchObject({ kind: 'server' });
  });
});
