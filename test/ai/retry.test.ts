import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AiError, OpenAiClient } from '../../src/ai/index.js';
import { completion, delayed, error, FakeOpenAI, json } from './fake-openai.js';
import { request, testOptions } from './options.js';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
});
afterEach(() => server.stop());

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as AiError);

describe('retries', () => {
  it('recovers from two 500s on the third call', async () => {
    server.enqueue(error(500), error(502), json(200, completion('third time lucky')));
    const calls: Array<{ ok: boolean; errorKind?: string }> = [];
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, events: { onCall: (e) => calls.push(e) } }));

    const result = await client.reply(request());

    expect(result.text).toBe('third time lucky');
    expect(server.requests).toHaveLength(3);
    expect(calls.map((c) => c.errorKind ?? 'ok')).toEqual(['server', 'server', 'ok']);
  });

  it('fails at once on a 400 with kind "client"', async () => {
    server.enqueue(error(400)).otherwise(json(200, completion('must not be reached')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL }));

    const err = await failure(client.reply(request()));

    expect(err).toBeInstanceOf(AiError);
    expect(err).toMatchObject({ kind: 'client', status: 400, retryable: false });
    expect(server.requests).toHaveLength(1);
  });

  it.each([401, 403, 404, 422])('does not retry a %i', async (status) => {
    server.otherwise(error(status));
    const err = await failure(new OpenAiClient(testOptions({ baseURL: server.baseURL })).reply(request()));
    expect(err).toMatchObject({ kind: 'client', status });
    expect(server.requests).toHaveLength(1);
  });

  it('retries a 500 whose Retry-After fits the backoff cap after that wait; one asking for longer is not asked again: it ends as a wait', async () => {
    server.enqueue(error(500, { 'retry-after': '1' }), json(200, completion('after a second')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, maxBackoffMs: 2_000 }));
    expect((await client.reply(request())).text).toBe('after a second');
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(950);

    server.enqueue(error(500, { 'retry-after': '86400' })).otherwise(json(200, completion('must wait a day')));
    const err = await failure(client.reply(request('Again?')));
    // Not retried after the 2 s cap against the server's word: a rate limit, waited out by the queue.
    expect(err).toMatchObject({ kind: 'rate_limited', retryable: true, isWait: true });
    expect(err!.retryAfterMs).toBeGreaterThan(86_000_000);
    expect(server.requests).toHaveLength(3);
    // New calls wait out the day too, without asking the provider.
    expect(await failure(client.reply(request('And now?')))).toMatchObject({ kind: 'rate_limited' });
    expect(server.requests).toHaveLength(3);
  });

  it.each([408, 409])('retries a %i', async (status) => {
    server.enqueue(error(status), json(200, completion('ok')));
    const result = await new OpenAiClient(testOptions({ baseURL: server.baseURL })).reply(request());
    expect(result.text).toBe('ok');
    expect(server.requests).toHaveLength(2);
  });

  it('throws the last error as an AiError when every attempt fails', async () => {
    server.otherwise(error(503));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 4 }));

    const err = await failure(client.reply(request()));

    expect(err).toBeInstanceOf(AiError);
    expect(err).toMatchObject({ kind: 'server', status: 503, retryable: true });
    expect(server.requests).toHaveLength(4);
  });

  it('follows x-should-retry: false even on a 500', async () => {
    server.otherwise(error(500, { 'x-should-retry': 'false' }));
    const err = await failure(new OpenAiClient(testOptions({ baseURL: server.baseURL })).reply(request()));
    expect(err).toMatchObject({ kind: 'server', retryable: false });
    expect(server.requests).toHaveLength(1);
  });
});

describe('timeouts', () => {
  it('abandons an attempt slower than attemptTimeoutMs and retries it', async () => {
    // The second attempt gets the same 1 s: enough for a loaded machine to answer a fast request,
    // far short of the 5 s the first one would take.
    server.enqueue(delayed(5_000, json(200, completion('too late'))), json(200, completion('fast')));
    const kinds: Array<string | undefined> = [];
    const client = new OpenAiClient(
      testOptions({ baseURL: server.baseURL, attemptTimeoutMs: 1_000, events: { onCall: (e) => kinds.push(e.errorKind) } }),
    );

    const started = Date.now();
    const result = await client.reply(request());

    expect(result.text).toBe('fast');
    expect(server.requests).toHaveLength(2);
    expect(kinds).toEqual(['timeout', undefined]);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('gives up with kind "timeout" when every attempt is too slow', async () => {
    server.otherwise(delayed(1_000, json(200, completion('too late'))));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 2, attemptTimeoutMs: 150 }));

    const err = await failure(client.reply(request()));

    expect(err).toMatchObject({ kind: 'timeout' });
    expect(server.requests).toHaveLength(2);
  });

  it('stops at the overall deadline even with attempts left', async () => {
    server.otherwise(delayed(2_000, json(200, completion('too late'))));
    const client = new OpenAiClient(
      testOptions({ baseURL: server.baseURL, attempts: 10, attemptTimeoutMs: 300, deadlineMs: 700 }),
    );

    const started = Date.now();
    const err = await failure(client.reply(request()));
    const elapsed = Date.now() - started;

    // The deadline ends it; on a loaded machine the last attempt's own timeout (cut to the time left)
    // may fire in the same tick and name it. Either way it is over at the deadline, attempts left:
    expect(['deadline', 'timeout']).toContain(err?.kind);
    expect(elapsed).toBeGreaterThanOrEqual(650);
    expect(elapsed).toBeLessThan(2_900); // not ten 300 ms attempts (3 s); the rest is slack for a loaded machine
    expect(server.requests.length).toBeLessThanOrEqual(3);
  });

  it('does not sleep out a backoff past the deadline', async () => {
    server.otherwise(error(500));
    const client = new OpenAiClient(
      testOptions({ baseURL: server.baseURL, attempts: 10, initialBackoffMs: 5_000, maxBackoffMs: 5_000, deadlineMs: 400 }),
    );

    const started = Date.now();
    const err = await failure(client.reply(request()));

    expect(err).toMatchObject({ kind: 'deadline' });
    expect(Date.now() - started).toBeLessThan(4_000); // not the 5 s backoff; the rest is slack for a loaded machine
    expect(server.requests).toHaveLength(1);
  });

  it('rejects with kind "aborted" as soon as the caller cancels', async () => {
    server.otherwise(delayed(10_000, json(200, completion('too late'))));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL }));
    const controller = new AbortController();
    let abortedAt = 0;
    // Cancel once the call has reached the server (however busy the machine is).
    const cancel = setInterval(() => {
      if (server.requests.length === 0) return;
      clearInterval(cancel);
      abortedAt = Date.now();
      controller.abort();
    }, 10);

    const err = await failure(client.reply(request(), { signal: controller.signal }));

    expect(err).toMatchObject({ kind: 'aborted', retryable: false });
    expect(Date.now() - abortedAt).toBeLessThan(2_000); // not the 10 s answer; slack for a loaded machine
    expect(server.requests).toHaveLength(1);
  });
});
