/**
 * The provider's content filter blocks an answer (Azure OpenAI and OpenAI: finish_reason
 * "content_filter", content empty or null, streamed or not) or a prompt (Azure: a 400 with code
 * "content_filter"). Asked again, the same request is blocked again, each try billed: the call
 * fails at once as kind `content_filtered`, final (not retried by the call nor by the queue), its
 * tokens counted. A filtered answer that gave some text is still that text, never cached. The AI is
 * faked at the HTTP boundary.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../../src/adapter.js';
import { AiError, OpenAiClient, type AiUsage } from '../../src/ai/index.js';
import { asQueueError } from '../../src/failure.js';
import { startFakeOpenAi, type FakeOpenAi, type Script } from '../fakes/openai-server.js';
import { request, testOptions } from './options.js';


let ai: FakeOpenAi | undefined;
afterEach(async () => {
  await ai?.close();
  ai = undefined;
});

async function fake(script: Script): Promise<FakeOpenAi> {
  ai = await startFakeOpenAi(script);
  return ai;
}

/** What Azure OpenAI sends beside a filtered answer: the categories, never the text. */
const filterResults = { hate: { filtered: false, severity: 'safe' }, violence: { filtered: true, severity: 'high' } };
const base = { id: 'chatcmpl-f', created: 1_700_000_000, model: 'gpt-4o-mini-2024-07-18' };

/** Azure's non-streamed answer its output filter withheld: content null, finish_reason content_filter, billed usage. */
const filteredBody = {
  ...base,
  object: 'chat.completion',
  prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }],
  choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter', content_filter_results: filterResults }],
  usage: { prompt_tokens: 40, completion_tokens: 9, total_tokens: 49 },
};

/** Azure's stream of the same: prompt results with no choices, a role delta, then the filter's finish. */
const chunk = (choices: unknown[], extra: object = {}) => JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra });
const filteredStream = (...deltas: string[]) => [
  chunk([], { prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] }),
  chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
  ...deltas.map((content) => chunk([{ index: 0, delta: { content }, finish_reason: null }])),
  chunk([{ index: 0, delta: {}, finish_reason: 'content_filter', content_filter_results: filterResults }]),
  chunk([], { usage: { prompt_tokens: 40, completion_tokens: 9, total_tokens: 49 } }),
  '[DONE]',
];

/** Azure's refusal of a prompt its filter flagged. */
const promptFiltered = {
  status: 400,
  body: {
    error: {
      message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
      type: null,
      param: 'prompt',
      code: 'content_filter',
      status: 400,
      innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: { jailbreak: { filtered: true, detected: true } } },
    },
  },
};

const collect = async (chunks: AsyncIterable<string>) => {
  const seen: string[] = [];
  for await (const piece of chunks) seen.push(piece);
  return seen;
};

function client(overrides: Parameters<typeof testOptions>[0] = {}) {
  const usages: AiUsage[] = [];
  const calls: { ok: boolean; errorKind?: string }[] = [];
  const events = { onUsage: (e: { usage: AiUsage }) => void usages.push(e.usage), onCall: (e: { ok: boolean; errorKind?: string }) => void calls.push(e) };
  return { client: new OpenAiClient(testOptions({ baseURL: ai!.url, attempts: 3, cacheTtlSeconds: 60, events, ...overrides })), usages, calls };
}

describe('an answer the provider filtered, with no text', () => {
  it('fails at once as kind content_filtered, final: one call, its tokens counted, reported as such, not cached', async () => {
    await fake(() => ({ body: filteredBody }));
    const { client: c, usages, calls } = client();

    const failure = await c.reply(request('something it will not say')).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(AiError);
    expect(failure).toMatchObject({ kind: 'content_filtered', retryable: false, isWait: false });
    expect((failure as Error).message).toContain('finish_reason content_filter');
    expect((failure as Error).message).not.toContain('something it will not say');
    expect(ai!.calls).toHaveLength(1);
    expect(usages).toEqual([expect.objectContaining({ inputTokens: 40, outputTokens: 9 })]);
    expect(calls).toEqual([expect.objectContaining({ ok: false, errorKind: 'content_filtered' })]);
    expect(await c.hasCached(request('something it will not say'))).toBe(false);
    expect(c.circuit).toBe('closed');
  });

  it('the queue gives it up at once as ai_content_filtered (no attempt spent on it again)', async () => {
    await fake(() => ({ text: '', finishReason: 'content_filter' }));
    const failure = await client().client.reply(request()).catch((error: unknown) => asQueueError(error));
    expect(failure).toBeInstanceOf(PermanentError);
    expect((failure as PermanentError).reason).toBe('ai_content_filtered');
  });

  it('streamed: no chunk, and the stream fails at once as content_filtered, final; its tokens counted', async () => {
    await fake(() => ({ events: filteredStream() }));
    const { client: c, usages, calls } = client();

    const { chunks, result } = c.stream(request());
    const seen: string[] = [];
    await expect((async () => seen.push(...(await collect(chunks))))()).rejects.toMatchObject({ kind: 'content_filtered', retryable: false });
    await expect(result).rejects.toMatchObject({ kind: 'content_filtered' });

    expect(seen).toEqual([]);
    expect(ai!.calls).toHaveLength(1);
    expect(usages).toEqual([expect.objectContaining({ inputTokens: 40, outputTokens: 9 })]);
    expect(calls.map((call) => call.errorKind)).toEqual(['content_filtered']);
  });

  it('streamed through the shared fake: the same', async () => {
    await fake(() => ({ text: '', finishReason: 'content_filter' }));
    const { chunks } = client().client.stream(request());
    await expect(collect(chunks)).rejects.toMatchObject({ kind: 'content_filtered', retryable: false });
    expect(ai!.calls).toHaveLength(1);
  });

  it('an answer with no text for another reason is still kind empty, retryable', async () => {
    await fake(() => ({ text: '', finishReason: 'length' }));
    await expect(client().client.reply(request())).rejects.toMatchObject({ kind: 'empty', retryable: true });
  });
});

describe('an answer the provider filtered after some text', () => {
  it('is that text, and never cached (asked again next time)', async () => {
    await fake(() => ({ text: 'The first part', finishReason: 'content_filter' }));
    const { client: c } = client();
    expect((await c.reply(request('q'))).text).toBe('The first part');
    expect(await c.hasCached(request('q'))).toBe(false);
  });

  it('streamed: the text shown is the answer, never cached', async () => {
    await fake(() => ({ events: filteredStream('The first ', 'part') }));
    const { client: c } = client();
    const { chunks, result } = c.stream(request('q'));
    expect(await collect(chunks)).toEqual(['The first ', 'part']);
    expect((await result).text).toBe('The first part');
    expect(await c.hasCached(request('q'))).toBe(false);
  });
});

describe("a prompt the provider's filter refused (Azure's 400 content_filter)", () => {
  it('is kind content_filtered, final even where the server says x-should-retry: true; the queue gives it up as ai_content_filtered', async () => {
    await fake(() => ({ ...promptFiltered, headers: { 'x-should-retry': 'true' } }));
    const { client: c, calls } = client();

    const failure = await c.reply(request()).catch((error: unknown) => error);

    expect(failure).toMatchObject({ kind: 'content_filtered', status: 400, retryable: false });
    expect(ai!.calls).toHaveLength(1);
    expect(calls.map((call) => call.errorKind)).toEqual(['content_filtered']);
    expect((asQueueError(failure) as PermanentError).reason).toBe('ai_content_filtered');
  });

  it('streamed: the same, before any text', async () => {
    await fake(() => promptFiltered);
    const { chunks } = client().client.stream(request());
    await expect(collect(chunks)).rejects.toMatchObject({ kind: 'content_filtered', status: 400, retryable: false });
    expect(ai!.calls).toHaveLength(1);
  });

  it('named only by its inner code (ResponsibleAIPolicyViolation): the same', async () => {
    const { code: _code, ...rest } = promptFiltered.body.error;
    await fake(() => ({ status: 400, body: { error: rest } }));
    await expect(client().client.reply(request())).rejects.toMatchObject({ kind: 'content_filtered', status: 400 });
  });

  it('another 400 is still kind client', async () => {
    await fake(() => ({ status: 400, body: { error: { message: "Invalid value for 'temperature'", type: 'invalid_request_error', code: 'invalid_value' } } }));
    await expect(client().client.reply(request())).rejects.toMatchObject({ kind: 'client', status: 400 });
  });
});
