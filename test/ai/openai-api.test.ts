/** Against the real OpenAI endpoint, faked with nock at the HTTP boundary. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AiError, OpenAiClient, type AiOptions } from '../../src/ai/index.js';
import { completion } from './fake-openai.js';
import { request, testOptions } from './options.js';

const API = 'https://api.openai.com';
const options = (overrides: Partial<AiOptions> = {}) => {
  const { baseURL: _ignored, ...rest } = testOptions({ apiKey: 'sk-test-secret', ...overrides });
  return rest;
};

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.disableNetConnect();
});
afterAll(() => nock.enableNetConnect());

describe('OpenAI API', () => {
  it('authenticates with the key and uses max_completion_tokens', async () => {
    let body: Record<string, unknown> = {};
    const scope = nock(API, { reqheaders: { authorization: 'Bearer sk-test-secret' } })
      .post('/v1/chat/completions', (b: Record<string, unknown>) => ((body = b), true))
      .reply(200, completion('hi'));

    const result = await new OpenAiClient(options()).reply(request());

    expect(scope.isDone()).toBe(true);
    expect(result.text).toBe('hi');
    expect(body.max_completion_tokens).toBe(200);
    expect(body).not.toHaveProperty('max_tokens');
  });

  it('waits as long as Retry-After says before retrying a 429', async () => {
    let calls = 0;
    nock(API)
      .post('/v1/chat/completions')
      .reply(() => (calls++, [429, { error: { message: 'slow down' } }, { 'Retry-After': '1' }]))
      .post('/v1/chat/completions')
      .reply(() => (calls++, [200, completion('after the wait')]));

    const started = Date.now();
    const result = await new OpenAiClient(options({ initialBackoffMs: 10 })).reply(request());
    const elapsed = Date.now() - started;

    expect(result.text).toBe('after the wait');
    expect(calls).toBe(2);
    // Our own backoff would have waited ~10 ms; the server asked for a second.
    expect(elapsed).toBeGreaterThanOrEqual(990);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('honours retry-after-ms', async () => {
    const times: number[] = [];
    nock(API)
      .post('/v1/chat/completions')
      .reply(() => (times.push(Date.now()), [503, { error: { message: 'busy' } }, { 'retry-after-ms': '300' }]))
      .post('/v1/chat/completions')
      .reply(() => (times.push(Date.now()), [200, completion('ok')]));

    await new OpenAiClient(options({ initialBackoffMs: 1 })).reply(request());

    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(290);
  });

  it('hands back at once, with the wait, when Retry-After is beyond the inline wait', async () => {
    const scope = nock(API)
      .post('/v1/chat/completions')
      .reply(429, { error: { message: 'quota' } }, { 'Retry-After': '30' });

    const started = Date.now();
    const error = await new OpenAiClient(options({ maxInlineWaitMs: 3_000, maxBackoffMs: 60_000 }))
      .reply(request())
      .catch((e: unknown) => e as AiError);

    expect(scope.isDone()).toBe(true);
    expect(error).toBeInstanceOf(AiError);
    expect(error).toMatchObject({ kind: 'rate_limited', retryable: true, isWait: true });
    expect((error as AiError).retryAfterMs).toBeGreaterThan(29_000);
    expect((error as AiError).retryAfterMs).toBeLessThanOrEqual(30_000);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('retries a refused connection and reports it as kind "connection" when it never recovers', async () => {
    // A port nothing listens on: the connection is really refused (nock lets loopback through).
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    nock.enableNetConnect('127.0.0.1');
    const kinds: Array<string | undefined> = [];

    const error = await new OpenAiClient({ ...options({ events: { onCall: (e) => kinds.push(e.errorKind) } }), baseURL: `http://127.0.0.1:${port}/v1` })
      .reply(request())
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ kind: 'connection' });
    expect(kinds).toEqual(['connection', 'connection', 'connection']);
  });
});
