/**
 * An answer with no text (a reasoning model that spent OPENAI_MAX_OUTPUT_TOKENS on reasoning:
 * content "", finish_reason "length") is a failed call, retried like a bad response, never a reply
 * and never cached. The AI is faked at the HTTP boundary.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AiError, OpenAiClient, type AiUsage } from '../../src/ai/index.js';
import { completion, FakeOpenAI, json, sse, type Handler } from './fake-openai.js';
import { request, testOptions } from './options.js';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
});
afterEach(() => server.stop());

/** What a reasoning model answers when its output budget went on reasoning. */
const reasonedAway = json(200, {
  ...completion(''),
  choices: [{ index: 0, message: { role: 'assistant', content: '', refusal: null }, finish_reason: 'length', logprobs: null }],
  usage: { prompt_tokens: 30, completion_tokens: 200, total_tokens: 230, completion_tokens_details: { reasoning_tokens: 200 } },
});

/** The same, streamed: a role delta, an empty content delta, finish_reason "length", usage. */
const reasonedAwayStream: Handler = (res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const base = { id: 'chatcmpl-e', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'o4-mini' };
  for (const event of [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'length' }] },
    { ...base, choices: [], usage: { prompt_tokens: 30, completion_tokens: 200, total_tokens: 230 } },
  ]) res.write(`data: ${JSON.stringify(event)}\n\n`);
  res.end('data: [DONE]\n\n');
};

const collect = async (chunks: AsyncIterable<string>) => {
  const seen: string[] = [];
  for await (const chunk of chunks) seen.push(chunk);
  return seen;
};

describe('an empty answer from the AI', () => {
  it('fails the call as kind "empty" at once (the queue retries it, not the call), retryable, naming OPENAI_MAX_OUTPUT_TOKENS; its tokens are still counted', async () => {
    server.otherwise(reasonedAway);
    const usages: AiUsage[] = [];
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 3, events: { onUsage: (e) => usages.push(e.usage) } }));

    const failure = await client.reply(request('think hard')).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(AiError);
    expect(failure).toMatchObject({ kind: 'empty', retryable: true, isWait: false });
    expect((failure as Error).message).toContain('OPENAI_MAX_OUTPUT_TOKENS');
    expect(server.requests).toHaveLength(1);
    expect(usages).toHaveLength(1);
    expect(usages[0]!.outputTokens).toBe(200);
  });

  it('is asked again on the next attempt, and the next text is the answer; the empty one is never cached', async () => {
    server.enqueue(reasonedAway, json(200, completion('Forty-two.')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60 }));

    await expect(client.reply(request('the answer?'))).rejects.toMatchObject({ kind: 'empty', retryable: true });
    const result = await client.reply(request('the answer?'));

    expect(result).toMatchObject({ text: 'Forty-two.', cached: false });
    expect(server.requests).toHaveLength(2);

    server.otherwise(reasonedAway);
    const cached = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60, attempts: 1 }));
    await expect(cached.reply(request('another question'))).rejects.toMatchObject({ kind: 'empty' });
    await expect(cached.reply(request('another question'))).rejects.toMatchObject({ kind: 'empty' });
    expect(await cached.hasCached(request('another question'))).toBe(false);
    expect(server.requests).toHaveLength(4);
  });

  it('does not open the circuit: an empty answer says nothing about the provider being down', async () => {
    server.otherwise(reasonedAway);
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 3, breakerThreshold: 2 }));

    await expect(client.reply(request('x'))).rejects.toMatchObject({ kind: 'empty' });

    expect(client.circuit).toBe('closed');
  });

  it('streamed: no chunk, and the stream fails as kind "empty" at once', async () => {
    server.otherwise(reasonedAwayStream);
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 2 }));

    const { chunks, result } = client.stream(request('think hard'));

    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of chunks) seen.push(chunk);
      })(),
    ).rejects.toMatchObject({ kind: 'empty', retryable: true });
    await expect(result).rejects.toMatchObject({ kind: 'empty' });
    expect(seen).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('streamed: an empty attempt fails at once, and the next attempt (the queue’s) streams', async () => {
    server.enqueue(reasonedAwayStream, sse(['At ', 'last']));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL }));

    const first = client.stream(request());
    await expect(collect(first.chunks)).rejects.toMatchObject({ kind: 'empty', retryable: true });
    await expect(first.result).rejects.toMatchObject({ kind: 'empty' });
    const { chunks, result } = client.stream(request());

    expect(await collect(chunks)).toEqual(['At ', 'last']);
    expect((await result).text).toBe('At last');
    expect(server.requests).toHaveLength(2);
  });
});
