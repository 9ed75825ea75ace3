/**
 * An "OpenAI-compatible" server that misbehaves (a proxy's login page, a gateway's error sent with
 * status 200, a compressed body nobody asked for, a redirect, absurd usage): every call ends in an
 * answer or in an AiError whose kind decides the retry and whose message says what came. The AI
 * is faked at the HTTP boundary, real sockets.
 */
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AiError, isInputTooLong, OpenAiClient, type AiUsage } from '../../src/ai/index.js';
import { completion, FakeOpenAI, json, sse, type Handler } from './fake-openai.js';
import { request, testOptions } from './options.js';
import { replyFittingContext } from '../../src/ai/shorter-history.js';
import { until } from '../helpers/until.js';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
});
afterEach(() => server.stop());

const raw =
  (status: number, body: string | Buffer, headers: Record<string, string>): Handler =>
  (res) => {
    res.writeHead(status, headers);
    res.end(body);
  };

/** Server-sent events written as given (malformed ones included), then the end of the body. */
const events =
  (...lines: string[]): Handler =>
  (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const line of lines) res.write(`data: ${line}\n\n`);
    res.end();
  };

const chunk = (delta: object) => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: null }] });

const loginPage = '<html><body><form>Please sign in to the corporate gateway</form></body></html>';

async function failure(promise: Promise<unknown>): Promise<AiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AiError);
  return error as AiError;
}

const client = (overrides: Parameters<typeof testOptions>[0] = {}) => new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 2, ...overrides }));

describe('a 200 that is not a chat completion', () => {
  const cases: Array<[string, Handler, RegExp]> = [
    ['an HTML login page', raw(200, loginPage, { 'content-type': 'text/html' }), /answered 200 with a body that is not JSON .*not a chat completion/],
    ['an HTML page labelled JSON', raw(200, loginPage, { 'content-type': 'application/json' }), /malformed answer: .*not valid JSON/],
    ['a JSON error object', json(200, { error: { message: 'upstream model crashed', type: 'server_error' } }), /answered 200 with an error: upstream model crashed/],
    ['JSON without choices', json(200, { ok: true }), /answered 200 without "choices"/],
  ];
  for (const [name, handler, message] of cases) {
    it(`reply: ${name} fails as a retryable server error saying what came, and is asked again`, async () => {
      server.otherwise(handler);
      const error = await failure(client().reply(request()));
      expect(error).toMatchObject({ kind: 'server', retryable: true });
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('Please sign in'); // the page itself is not logged
      expect(server.requests).toHaveLength(2);
    });
  }

  it('stream: an HTML page or a JSON body where events were asked for fails as a server error naming the content type', async () => {
    server.enqueue(raw(200, loginPage, { 'content-type': 'text/html' }), json(200, { error: { message: 'nope' } }));
    const error = await failure(client().stream(request()).result);
    expect(error).toMatchObject({ kind: 'server', retryable: true });
    expect(error.message).toMatch(/answered 200 with application\/json and no stream events/);
    expect(server.requests).toHaveLength(2);
  });

  it('stream: an error event (or a malformed line) before any text is retried, and the next attempt answers', async () => {
    server.enqueue(events(JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } })), events('{not json'), sse(['Hi', ' there']));
    const stream = client({ attempts: 3 }).stream(request());
    const seen: string[] = [];
    for await (const piece of stream.chunks) seen.push(piece);
    expect(seen.join('')).toBe('Hi there');
    expect((await stream.result).text).toBe('Hi there');
    expect(server.requests).toHaveLength(3);
  });
});

describe('an error sent with status 200 that states a client error (vLLM, LiteLLM: `code: 400`)', () => {
  // LiteLLM sends the upstream's refusal as a stream event once its 200 has gone; vLLM and some
  // gateways send {"error": …} with status 200. A stated 4xx is no server failure: asking again
  // cannot help, and counting it would open the breaker for every conversation.
  const tooLong = { message: 'litellm.ContextWindowExceededError: prompt is too long', type: null, param: null, code: '400' };

  it('stream: an error event stating 400 is a client error, not asked again, and reads as input too long', async () => {
    server.otherwise(events(JSON.stringify({ error: tooLong })));
    const error = await failure(client({ attempts: 3 }).stream(request()).result);
    expect(error).toMatchObject({ kind: 'client', retryable: false, status: 400 });
    expect(isInputTooLong(error)).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('reply: {"error": {code: 400}} with status 200 is a client error, not asked again', async () => {
    server.otherwise(json(200, { error: { ...tooLong, code: 400 } }));
    const error = await failure(client({ attempts: 3 }).reply(request()));
    expect(error).toMatchObject({ kind: 'client', retryable: false, status: 400 });
    expect(error.message).toMatch(/answered 200 with an error.*prompt is too long/);
    expect(isInputTooLong(error)).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('a stated 5xx (or 429) is still asked again', async () => {
    server.enqueue(events(JSON.stringify({ error: { message: 'upstream 503', code: 503 } })), json(200, { error: { message: 'busy', code: '429' } }), sse(['fine']));
    expect((await client({ attempts: 3 }).stream(request()).result).text).toBe('fine');
    expect(server.requests).toHaveLength(3);
  });
});

describe('bodies a compatible server shapes its own way', () => {
  it('reply: a gzip-encoded body sent without being asked for is read as the global fetch reads it', async () => {
    server.otherwise(raw(200, gzipSync(JSON.stringify(completion('zipped answer'))), { 'content-type': 'application/json', 'content-encoding': 'gzip' }));
    expect((await client().reply(request())).text).toBe('zipped answer');
  });

  it('content as a list of parts (reply and stream) is the text of its parts, never "[object Object]"', async () => {
    const parts = [{ type: 'text', text: 'from ' }, { type: 'text', text: 'parts' }];
    server.enqueue(json(200, { ...completion('x'), choices: [{ index: 0, message: { role: 'assistant', content: parts }, finish_reason: 'stop' }] }));
    expect((await client().reply(request('a'))).text).toBe('from parts');
    server.enqueue(events(chunk({ content: parts }), '[DONE]'));
    expect((await client().stream(request('b')).result).text).toBe('from parts');
  });
});

describe('an answer that does not end (a server ignoring max_tokens, or looping)', () => {
  const endless: Handler = (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const more = () => {
      if (!res.destroyed) res.write(`data: ${chunk({ content: 'spam ' })}\n\n`, () => setImmediate(more));
    };
    more();
  };

  it('stream: is cut at 32 characters per output token asked for, its request dropped, and never cached', async () => {
    server.otherwise(endless);
    const ai = client({ maxOutputTokens: 10, cacheTtlSeconds: 60 });
    const stream = ai.stream(request());
    let shown = '';
    for await (const piece of stream.chunks) shown += piece;
    const result = await stream.result;
    expect(result.text).toBe('spam '.repeat(64));
    expect(shown).toBe(result.text);
    await until(() => server.dropped === 1, 'the endless answer to be dropped');
    expect(await ai.hasCached(request())).toBe(false);
  });

  it('reply: a text longer than that is cut there too, and not cached', async () => {
    server.otherwise(json(200, completion('x'.repeat(100_000))));
    const ai = client({ maxOutputTokens: 10, cacheTtlSeconds: 60 });
    expect((await ai.reply(request())).text).toBe('x'.repeat(320));
    expect(await ai.hasCached(request())).toBe(false);
  });
});

describe('a redirect', () => {
  let elsewhere: FakeOpenAI;
  beforeEach(async () => {
    elsewhere = await new FakeOpenAI().start();
  });
  afterEach(() => elsewhere.stop());

  it('is not followed, by reply or stream: nothing reaches the other host, and the error names OPENAI_BASE_URL', async () => {
    const target = `${elsewhere.baseURL}/chat/completions?sig=abc`;
    server.otherwise(raw(307, '', { location: target }));
    elsewhere.otherwise(sse(['leaked']));
    for (const call of [() => client().reply(request()), () => client().stream(request()).result]) {
      const error = await failure(call());
      expect(error).toMatchObject({ kind: 'client', retryable: false, status: 307 });
      expect(error.message).toContain(`redirect to ${elsewhere.baseURL}/chat/completions, not followed`);
      expect(error.message).toContain('OPENAI_BASE_URL');
      expect(error.message).not.toContain('sig=abc');
    }
    expect(elsewhere.requests).toHaveLength(0);
  });
});

describe('usage a provider gets wrong', () => {
  const withUsage = (usage: unknown): Handler => json(200, { ...completion('fine'), usage });
  it('negative, non-numeric or infinite counts count 0; an absurd one is capped; cost stays a finite, non-negative number', async () => {
    const usages: AiUsage[] = [];
    const ai = client({ events: { onUsage: (e) => usages.push(e.usage) } });
    server.enqueue(
      withUsage({ prompt_tokens: -1_000_000_000, completion_tokens: -5 }),
      withUsage({ prompt_tokens: 'lots', completion_tokens: null }),
      raw(200, JSON.stringify(completion('fine')).replace(/"prompt_tokens":\d+/, '"prompt_tokens":1e999'), { 'content-type': 'application/json' }),
      withUsage({ prompt_tokens: 1e300, completion_tokens: 3 }),
    );
    for (const text of ['a', 'b', 'c', 'd']) expect((await ai.reply(request(text))).text).toBe('fine');
    expect(usages.slice(0, 3)).toEqual([
      { inputTokens: 0, outputTokens: 0, costUsd: 0 },
      { inputTokens: 0, outputTokens: 0, costUsd: 0 },
      { inputTokens: 0, outputTokens: 5, costUsd: 5 * 0.6e-6 },
    ]);
    // 1e300 prompt tokens would spend every budget for good: counted as the most a call can plausibly use.
    expect(usages[3]).toMatchObject({ inputTokens: 10_000_000, outputTokens: 3 });
    expect(usages[3]!.costUsd).toBeCloseTo(1.5, 5);
  });

  it('a usage the server gets wrong on every answer is one warning a minute per field, never the whole value it sent', async () => {
    const lines: { msg: string; reported?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    const ai = client({ logger });
    for (let i = 0; i < 5; i++) server.enqueue(json(200, { ...completion('fine'), usage: { prompt_tokens: 'x'.repeat(100_000), completion_tokens: 1 } }));
    for (const text of ['a', 'b', 'c', 'd', 'e']) expect((await ai.reply(request(text))).text).toBe('fine');
    const warned = lines.filter((line) => line.msg === 'AI provider reported an implausible token count');
    expect(warned).toHaveLength(1);
    expect(warned[0]!.reported!.length).toBeLessThanOrEqual(100);
  });

  it('streamed: a negative usage chunk counts 0', async () => {
    const usages: AiUsage[] = [];
    server.enqueue(sse(['ok'], { prompt_tokens: -7, completion_tokens: -3 }));
    const stream = client({ events: { onUsage: (e) => usages.push(e.usage) } }).stream(request());
    expect((await stream.result).text).toBe('ok');
    expect(usages).toEqual([{ inputTokens: 0, outputTokens: 0, costUsd: 0 }]);
  });

  it('a usage listener that throws does not turn a paid answer into a failure', async () => {
    server.otherwise(json(200, completion('still answered')));
    const ai = client({
      events: {
        onUsage: () => {
          throw new Error('It is not possible to decrease a counter');
        },
      },
    });
    expect((await ai.reply(request())).text).toBe('still answered');
  });
});

describe('"too long" as compatible servers say it', () => {
  const refusals: Array<[string, object]> = [
    ['llama.cpp', { error: { code: 400, message: 'the request exceeds the available context size, try increasing it', type: 'exceed_context_size_error' } }],
    ['LiteLLM', { error: { message: 'litellm.ContextWindowExceededError: litellm.BadRequestError: ContextWindowExceededError', type: null, param: null, code: '400' } }],
    ['Gemini', { error: { message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).', type: 'invalid_request_error', code: 400 } }],
  ];
  for (const [who, body] of refusals) {
    it(`${who}'s 400 reads as input too long (history shortened, dead letter ai_input_too_long)`, async () => {
      server.otherwise(json(400, body));
      const error = await failure(client().reply(request()));
      expect(error).toMatchObject({ kind: 'client', status: 400 });
      expect(isInputTooLong(error)).toBe(true);
    });
  }
});

describe('a 413 (the request was too large) reads as input too long, whatever its body says', () => {
  const nginx = '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
  const refusals: Array<[string, Handler]> = [
    ["nginx's HTML page", raw(413, nginx, { 'content-type': 'text/html' })],
    ['a bare text body', raw(413, 'Request Entity Too Large', { 'content-type': 'text/plain' })],
    ['no body', raw(413, '', {})],
    // Groq's 413: one request larger than the tokens a minute allows; only a smaller one passes.
    ['Groq (a request over its tokens a minute)', json(413, { error: { message: 'Request too large for model `llama-3.3-70b-versatile` on tokens per minute (TPM): Limit 6000, Requested 9000, please reduce your message size and try again.', type: 'tokens', code: 'rate_limit_exceeded' } })],
  ];
  for (const [name, handler] of refusals) {
    it(`${name}: not retried, and read as input too long (dead letter ai_input_too_long)`, async () => {
      server.otherwise(handler);
      const error = await failure(client().reply(request()));
      expect(error).toMatchObject({ kind: 'client', status: 413, retryable: false });
      expect(isInputTooLong(error)).toBe(true);
      expect(server.requests).toHaveLength(1);
    });
  }

  it('one saying x-should-retry: true (a gateway copying OpenAI\'s headers) is still final: the same request cannot pass', async () => {
    server.otherwise(raw(413, 'Request Entity Too Large', { 'content-type': 'text/plain', 'x-should-retry': 'true' }));
    const error = await failure(client().reply(request()));
    expect(error).toMatchObject({ kind: 'client', status: 413, retryable: false });
    expect(isInputTooLong(error)).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('the conversation is asked again with less history, and answered', async () => {
    server.enqueue(raw(413, nginx, { 'content-type': 'text/html' })).otherwise(json(200, completion('answered with less')));
    const history = ['one', 'two', 'three', 'four'].map((text, i) => ({ role: i % 2 ? ('assistant' as const) : ('user' as const), text, at: '2024-05-01T12:00:00Z' }));
    const result = await replyFittingContext(client(), request('Hello?', history));
    expect(result.text).toBe('answered with less');
    // System prompt, the history, the question: then the newest half of the history.
    expect(server.requests.map((r) => r.body.messages.length)).toEqual([6, 4]);
  });
});

describe('an answer without end', () => {
  it('reply: fails at 16 MiB as a retryable server error saying so, not buffered until the attempt times out', async () => {
    const endless: Handler = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"chatcmpl-x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"');
      const pour = () => {
        while (!res.destroyed && res.write(Buffer.alloc(64 * 1024, 'la ')));
        if (!res.destroyed) res.once('drain', pour);
      };
      pour();
    };
    server.enqueue(endless).otherwise(json(200, completion('the next attempt answers')));
    const events: string[] = [];
    const ai = client({ attemptTimeoutMs: 30_000, events: { onCall: (e) => events.push(e.errorKind ?? 'ok') } });
    expect((await ai.reply(request())).text).toBe('the next attempt answers');
    expect(events).toEqual(['server', 'ok']);
    // The connection was closed, not read to its end.
    await until(() => server.dropped === 1, 'the endless answer dropped');

    server.otherwise(endless);
    const error = await failure(client({ attemptTimeoutMs: 30_000 }).reply(request()));
    expect(error).toMatchObject({ kind: 'server', retryable: true });
    expect(error.message).toBe('AI provider sent no chat completion: the answer was larger than 16 MiB: stopped reading it');
  });
});
