/**
 * What an "OpenAI-compatible" server leaves out: the usage (a server that ignores
 * `stream_options`, a proxy that drops it) and the end of a stream (a proxy that closes it
 * mid-answer, cleanly, with no finish_reason). Real sockets; the AI faked at the HTTP boundary.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AiError, nothingShown, OpenAiClient, type AiUsage } from '../../src/ai/index.js';
import { estimateTokens } from '../../src/ai/history.js';
import { completion, FakeOpenAI, json, sse, type Handler } from './fake-openai.js';
import { request, testOptions } from './options.js';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
});
afterEach(() => server.stop());

const chunk = (delta: object, finish: string | null = null) =>
  JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] });

/** Server-sent events written as given, then the end of the body (no [DONE] unless given). */
const events =
  (...lines: string[]): Handler =>
  (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const line of lines) res.write(`data: ${line}\n\n`);
    res.end();
  };

function warnings() {
  const messages: string[] = [];
  const logger = pino({ level: 'warn' }, new Writable({ write: (line: Buffer, _e, done) => void (messages.push(String(JSON.parse(String(line)).msg)), done()) }));
  return { messages, logger };
}

describe('an answer with no usage', () => {
  it('reply: its tokens are estimated (and priced), not counted as 0, with one warning for the client', async () => {
    const { messages, logger } = warnings();
    const usages: AiUsage[] = [];
    const { usage: _dropped, ...noUsage } = completion('An answer of some forty characters long.');
    server.otherwise(json(200, noUsage));
    const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, logger, events: { onUsage: (e) => usages.push(e.usage) } }));
    await ai.reply(request('first question'));
    await ai.reply(request('second question'));
    expect(usages).toHaveLength(2);
    for (const usage of usages) {
      expect(usage.inputTokens).toBeGreaterThan(0);
      expect(usage.outputTokens).toBeGreaterThan(0);
      expect(usage.costUsd).toBeGreaterThan(0);
    }
    expect(messages.filter((m) => /no token usage/.test(m))).toHaveLength(1);
  });

  it('stream: a stream with a finish_reason and no usage chunk is whole, its tokens estimated', async () => {
    const usages: AiUsage[] = [];
    server.enqueue(events(chunk({ role: 'assistant', content: 'Whole ' }), chunk({ content: 'answer.' }), chunk({}, 'stop'), '[DONE]'));
    const stream = new OpenAiClient(testOptions({ baseURL: server.baseURL, events: { onUsage: (e) => usages.push(e.usage) } })).stream(request());
    expect((await stream.result).text).toBe('Whole answer.');
    expect(usages).toHaveLength(1);
    expect(usages[0]!.outputTokens).toBeGreaterThan(0);
    expect(usages[0]!.costUsd).toBeGreaterThan(0);
  });

  it('a usage the server did report stays as reported, zeros included', async () => {
    const usages: AiUsage[] = [];
    server.enqueue(json(200, completion('fine', { prompt_tokens: 0, completion_tokens: 0 })), sse(['ok']));
    const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, events: { onUsage: (e) => usages.push(e.usage) } }));
    await ai.reply(request('a'));
    await ai.stream(request('b')).result;
    expect(usages).toEqual([{ inputTokens: 0, outputTokens: 0, costUsd: 0 }, { inputTokens: 7, outputTokens: 3, costUsd: 7 * 0.15e-6 + 3 * 0.6e-6 }]);
  });
});

describe('a stream that ends mid-answer without a finish_reason (a proxy closing it cleanly)', () => {
  const cut = events(chunk({ role: 'assistant', content: 'Half an ' }), chunk({ content: 'ans' }));

  it('fails as a dropped connection (not a whole answer): retryable once the text is known not to have been shown', async () => {
    server.enqueue(cut);
    const stream = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 1 })).stream(request());
    const chunks: string[] = [];
    const error = await (async () => {
      for await (const piece of stream.chunks) chunks.push(piece);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(chunks.join('')).toBe('Half an ans');
    expect(error).toBeInstanceOf(AiError);
    expect((error as AiError).kind).toBe('connection');
    expect((error as AiError).message).toMatch(/without a finish_reason/);
    // Text went out of the client: final for it, but retryable where none of it reached the user.
    expect((error as AiError).retryable).toBe(false);
    expect((nothingShown(error) as AiError).retryable).toBe(true);
  });

  it('a stream that says [DONE] with no finish_reason nor usage (a terse server) is whole, the marker split across reads or not', async () => {
    const split: Handler = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${chunk({ content: 'Terse but whole.' })}\n\ndata: [DO`);
      setTimeout(() => res.end('NE]\n\n'), 30);
    };
    server.enqueue(events(chunk({ content: 'Terse but whole.' }), '[DONE]'), split);
    const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 1 }));
    expect((await ai.stream(request('a')).result).text).toBe('Terse but whole.');
    expect((await ai.stream(request('b')).result).text).toBe('Terse but whole.');
  });

  it('a terse stream whose lines end in a bare CR (as server-sent events may) is whole too', async () => {
    server.enqueue((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`data: ${chunk({ content: 'Terse, CR only.' })}\r\rdata: [DONE]\r\r`);
    });
    expect((await new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 1 })).stream(request()).result).text).toBe('Terse, CR only.');
  });

  it('counts what the cut attempt was billed, by estimate (the prompt and the text received), once', async () => {
    const usages: AiUsage[] = [];
    server.enqueue(cut);
    const stream = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 1, events: { onUsage: (e) => usages.push(e.usage) } })).stream(request());
    await expect(stream.result).rejects.toMatchObject({ kind: 'connection' });
    expect(usages).toHaveLength(1);
    // As a stream its reader cut short is estimated: the system prompt and the question, the text received.
    expect(usages[0]).toMatchObject({ inputTokens: estimateTokens('You are terse.\nHello?'), outputTokens: estimateTokens('Half an ans') });
    expect(usages[0]!.costUsd).toBeGreaterThan(0);
  });

  it('a cut attempt that sent no text yet (only its first chunk) is counted too, then the one asked again', async () => {
    const usages: AiUsage[] = [];
    server.enqueue(events(chunk({ role: 'assistant', content: '' })), sse(['Asked again.']));
    const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 2, events: { onUsage: (e) => usages.push(e.usage) } }));
    expect((await ai.stream(request()).result).text).toBe('Asked again.');
    expect(server.requests).toHaveLength(2);
    expect(usages).toHaveLength(2);
    expect(usages[0]).toMatchObject({ inputTokens: estimateTokens('You are terse.\nHello?'), outputTokens: estimateTokens('') });
    expect(usages[1]).toEqual({ inputTokens: 7, outputTokens: 3, costUsd: 7 * 0.15e-6 + 3 * 0.6e-6 });
  });

  it('a connection reset mid-answer is counted the same way; one refused before any chunk costs nothing', async () => {
    const usages: AiUsage[] = [];
    server.enqueue(
      (res) => res.destroy(), // nothing at all: no answer, nothing billed
      (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${chunk({ role: 'assistant', content: 'Reset after this' })}\n\n`);
        setTimeout(() => res.destroy(), 20);
      },
    );
    const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 2, events: { onUsage: (e) => usages.push(e.usage) } }));
    await expect(ai.stream(request()).result).rejects.toMatchObject({ kind: 'connection' });
    expect(server.requests).toHaveLength(2);
    expect(usages).toHaveLength(1);
    expect(usages[0]!.outputTokens).toBe(estimateTokens('Reset after this'));
  });

  it('is never cached as the answer: the next asker gets the whole one', async () => {
    server.enqueue(cut, sse(['The whole answer.']));
    const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 1, cacheTtlSeconds: 60 }));
    await ai.stream(request('same question')).result.catch(() => undefined);
    expect((await ai.stream(request('same question')).result).text).toBe('The whole answer.');
    expect(server.requests).toHaveLength(2);
  });
});

describe('a completion labelled text/plain (a proxy rewriting the content type)', () => {
  it('reply: is read as the JSON it is, and answers', async () => {
    server.enqueue((res) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(JSON.stringify(completion('Labelled wrong, answered right.')));
    });
    expect((await new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 1 })).reply(request())).text).toBe('Labelled wrong, answered right.');
  });

  it('reply: an error labelled so is still that error, and a page still no completion', async () => {
    server.enqueue(
      (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(JSON.stringify({ error: { message: 'context too long', code: 400 } })),
      (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('Service temporarily unavailable'),
    );
    const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 1 }));
    await expect(ai.reply(request('a'))).rejects.toMatchObject({ kind: 'client', status: 400 });
    await expect(ai.reply(request('b'))).rejects.toMatchObject({ kind: 'server', message: expect.stringMatching(/not JSON/) });
  });
});
