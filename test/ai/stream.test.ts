import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenAiClient, type AiUsage } from '../../src/ai/index.js';
import { error, FakeOpenAI, sse } from './fake-openai.js';
import { request, testOptions } from './options.js';
import { until } from '../helpers/until.js';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
});
afterEach(() => server.stop());

const collect = async (chunks: AsyncIterable<string>) => {
  const seen: string[] = [];
  for await (const chunk of chunks) seen.push(chunk);
  return seen;
};

describe('stream', () => {
  it('yields the deltas in order and resolves with the whole text and usage', async () => {
    server.enqueue(sse(['Hel', 'lo', ', ', 'world'], { prompt_tokens: 1_000_000, completion_tokens: 1_000_000 }, 5));
    const usages: AiUsage[] = [];
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, events: { onUsage: (e) => usages.push(e.usage) } }));

    const { chunks, result } = client.stream(request('greet me'));

    expect(await collect(chunks)).toEqual(['Hel', 'lo', ', ', 'world']);
    const final = await result;
    expect(final).toEqual({
      text: 'Hello, world',
      model: 'gpt-4o-mini-2024-07-18',
      usage: { inputTokens: 1_000_000, outputTokens: 1_000_000, costUsd: 0.75 },
      cached: false,
    });
    expect(usages).toEqual([final.usage]);
    const sent = server.requests[0]!.body;
    expect(sent.stream).toBe(true);
    expect(sent.stream_options).toEqual({ include_usage: true });
    expect(sent.messages.at(-1)).toEqual({ role: 'user', content: 'greet me' });
  });

  it('uses the cache as reply does: a repeated question streams the kept answer as one chunk, with no call and nothing billed', async () => {
    server.otherwise(sse(['Hel', 'lo'], { prompt_tokens: 100, completion_tokens: 10 }));
    const hits: boolean[] = [];
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60, events: { onCache: (hit) => hits.push(hit) } }));

    const first = client.stream(request('What is SSO?'));
    expect(await collect(first.chunks)).toEqual(['Hel', 'lo']);
    expect((await first.result).cached).toBe(false);
    const second = client.stream(request('what is  sso'));
    expect(await collect(second.chunks)).toEqual(['Hello']);
    expect(await second.result).toMatchObject({ text: 'Hello', cached: true, usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 } });
    // A reply (no streaming) finds the streamed answer too.
    expect(await client.reply(request('What is SSO'))).toMatchObject({ text: 'Hello', cached: true });
    expect(server.requests).toHaveLength(1);
    expect(hits).toEqual([false, true, true]);

    // With the cache off, every stream calls.
    const uncached = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 0 }));
    for (let i = 0; i < 2; i++) expect((await uncached.stream(request('What is SSO?')).result).cached).toBe(false);
    expect(server.requests).toHaveLength(3);
  });

  it('never caches a streamed answer cut off by the output limit', async () => {
    server.otherwise((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: object, finish: string | null) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.end(`${chunk({ content: 'cut off mid' }, null)}${chunk({}, 'length')}data: [DONE]\n\n`);
    });
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60 }));
    for (let i = 0; i < 2; i++) expect((await client.stream(request('a long question')).result).cached).toBe(false);
    expect(server.requests).toHaveLength(2);
  });

  it('resolves the result even when nobody reads the chunks', async () => {
    server.enqueue(sse(['a', 'b']));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL }));

    expect((await client.stream(request()).result).text).toBe('ab');
  });

  it('retries a failure that happens before the first chunk', async () => {
    server.enqueue(error(503), sse(['second ', 'try']));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL }));

    const { chunks, result } = client.stream(request());

    expect(await collect(chunks)).toEqual(['second ', 'try']);
    expect((await result).text).toBe('second try');
    expect(server.requests).toHaveLength(2);
  });

  it('fails chunks and result alike when every attempt fails', async () => {
    server.otherwise(error(400));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL }));

    const { chunks, result } = client.stream(request());

    await expect(collect(chunks)).rejects.toMatchObject({ kind: 'client' });
    await expect(result).rejects.toMatchObject({ kind: 'client' });
    expect(server.requests).toHaveLength(1);
  });

  /** One content delta as the API streams it. */
  const delta = (content: string) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
  /** A stream that sends `partial`, then whatever `then` does with the response. */
  const partial = (then: (res: import('node:http').ServerResponse) => void) => (res: import('node:http').ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(delta('partial'));
    then(res);
  };

  it('times out a stream that goes silent, without retrying once text was sent', async () => {
    server.enqueue(partial(() => undefined)); // ...and then nothing more
    // 1 s: the first chunk arrives inside it on a loaded machine (else the attempt is retried, nothing shown).
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, attemptTimeoutMs: 1_000 }));

    const { chunks, result } = client.stream(request());

    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of chunks) seen.push(chunk);
      })(),
    ).rejects.toMatchObject({ kind: 'timeout', retryable: false });
    expect(seen).toEqual(['partial']);
    await expect(result).rejects.toMatchObject({ kind: 'timeout' });
    expect(server.requests).toHaveLength(1);
  });

  /** A stream that sends `partial` and then a chunk every `everyMs`, never ending. */
  const trickle = (everyMs: number) =>
    partial((res) => {
      const timer = setInterval(() => res.write(delta('.')), everyMs);
      res.on('close', () => clearInterval(timer));
    });

  it('ends a stream at its overall deadline as final once text was sent: neither retried now nor by the queue', async () => {
    server.enqueue(trickle(50));
    // A chunk every 50 ms keeps a 1 s attempt alive even through a loaded machine's pauses (200 ms might
    // not: the attempt would time out first); the 2 s deadline ends it.
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, attemptTimeoutMs: 1_000, deadlineMs: 2_000 }));

    const { chunks, result } = client.stream(request());

    await expect(collect(chunks)).rejects.toMatchObject({ kind: 'deadline', retryable: false });
    await expect(result).rejects.toMatchObject({ kind: 'deadline', retryable: false });
    expect(server.requests).toHaveLength(1);
  });

  it('keeps a failure after text final when it opens the circuit (not a wait for the circuit, which would stream the answer again)', async () => {
    server.enqueue(partial((res) => setTimeout(() => res.destroy(), 20))); // the connection breaks mid-stream
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, breakerThreshold: 1 }));

    const { chunks } = client.stream(request());

    const failure = await collect(chunks).catch((error: unknown) => error);
    expect(failure).toMatchObject({ retryable: false });
    expect((failure as { kind: string }).kind).not.toBe('circuit_open');
    expect(client.circuit).toBe('open');
    expect(server.requests).toHaveLength(1);
  });

  it('cancels the call when the reader stops early', async () => {
    server.enqueue(sse(['one', 'two', 'three', 'four'], undefined, 100));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL }));

    const { chunks, result } = client.stream(request());
    for await (const chunk of chunks) {
      expect(chunk).toBe('one');
      break;
    }

    await expect(result).rejects.toMatchObject({ kind: 'aborted' });
    // The connection was dropped rather than read to the end (the server had not ended it when it closed).
    await until(() => server.active === 0, 'the connection to close');
    expect(server.dropped).toBe(1);
  });
});
