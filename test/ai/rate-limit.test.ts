import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AiError, OpenAiClient } from '../../src/ai/index.js';
import { FallbackAiClient } from '../../src/ai/fallback.js';
import { completion, error, FakeOpenAI, json, sse } from './fake-openai.js';
import { request, testOptions } from './options.js';

let server: FakeOpenAI;
let standIn: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
  standIn = await new FakeOpenAI().start();
});
afterEach(async () => {
  await server.stop();
  await standIn.stop();
});

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as AiError);
const throttled = (ms = 40) => error(429, { 'retry-after-ms': String(ms) });

describe('AI rate limits are not failures', () => {
  it('waits out a burst of 429s without spending attempts or opening the breaker', async () => {
    server.enqueue(...Array.from({ length: 6 }, () => throttled())).otherwise(json(200, completion('finally')));
    const calls: string[] = [];
    const client = new OpenAiClient(
      testOptions({ baseURL: server.baseURL, attempts: 2, breakerThreshold: 2, events: { onCall: (e) => calls.push(e.errorKind ?? 'ok') } }),
    );

    const result = await client.reply(request());

    expect(result.text).toBe('finally');
    expect(server.requests).toHaveLength(7);
    expect(calls).toEqual([...Array.from({ length: 6 }, () => 'rate_limited'), 'ok']);
    expect(client.circuit).toBe('closed');
  });

  it('a Retry-After of years (a misconfigured gateway) blocks calls for a day at most, not until a restart', async () => {
    const tenYears = 10 * 365 * 24 * 60 * 60;
    server.enqueue(error(429, { 'retry-after': String(tenYears) })).otherwise(json(200, completion('ok')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL }));
    const thrown = await failure(client.reply(request()));
    expect(thrown).toBeInstanceOf(AiError);
    expect(thrown?.kind).toBe('rate_limited');
    expect(thrown?.retryAfterMs).toBeGreaterThan(23 * 60 * 60 * 1000);
    expect(thrown?.retryAfterMs).toBeLessThanOrEqual(24 * 60 * 60 * 1000);
  });

  // OpenAI's 429 often names no Retry-After, only when each limit resets (Go durations).
  const resets: Array<[string, Record<string, string>, number]> = [
    ['the tokens are spent: their reset', { 'x-ratelimit-remaining-requests': '499', 'x-ratelimit-reset-requests': '120ms', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '6m0s' }, 360_000],
    ['the requests are spent: their reset', { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1m30s', 'x-ratelimit-remaining-tokens': '9000', 'x-ratelimit-reset-tokens': '20ms' }, 90_000],
    ['both are spent: the later reset', { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1h2m3.5s', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '2m' }, 3_723_500],
    ['requests are left (one asked for more tokens than remain): the tokens\' reset', { 'x-ratelimit-remaining-requests': '12', 'x-ratelimit-reset-requests': '1s', 'x-ratelimit-remaining-tokens': '500', 'x-ratelimit-reset-tokens': '2m0s' }, 120_000],
    ['nothing says which: the sooner reset', { 'x-ratelimit-reset-requests': '3m0s', 'x-ratelimit-reset-tokens': '1h0m0s' }, 180_000],
  ];
  for (const [name, headers, expected] of resets) {
    it(`a 429 with only x-ratelimit-reset-* waits until the limit resets (${name})`, async () => {
      server.enqueue(error(429, headers)).otherwise(json(200, completion('ok')));
      const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, maxInlineWaitMs: 200 }));
      const thrown = await failure(client.reply(request()));
      expect(thrown).toMatchObject({ kind: 'rate_limited', isWait: true });
      // Handed back as a wait: how long is what is left of the block the 429 set.
      expect(thrown!.retryAfterMs).toBeGreaterThan(expected - 10_000);
      expect(thrown!.retryAfterMs).toBeLessThanOrEqual(expected);
      expect(server.requests).toHaveLength(1);
    });
  }

  // OpenAI's message says the wait too ("Please try again in 1.5s"): read when no header names one.
  const saying = (wait: string, status = 429, headers: Record<string, string> = {}) =>
    json(status, { error: { message: `Rate limit reached for gpt-4o-mini in organization org-x on tokens per min (TPM): Limit 30000, Used 29500, Requested 900. Please try again in ${wait}. Visit https://platform.openai.com/account/rate-limits to learn more.`, type: 'tokens', code: 'rate_limit_exceeded', param: null } }, headers);
  for (const [wait, expected] of [['9s', 9_000], ['2.5s', 2_500], ['1m30s', 90_000]] as const) {
    it(`a 429 with no wait in its headers waits as its message says ("Please try again in ${wait}")`, async () => {
      server.enqueue(saying(wait)).otherwise(json(200, completion('ok')));
      const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, maxInlineWaitMs: 200 }));
      const thrown = await failure(client.reply(request()));
      expect(thrown).toMatchObject({ kind: 'rate_limited', isWait: true });
      expect(thrown!.retryAfterMs).toBeGreaterThan(expected - 1_000);
      expect(thrown!.retryAfterMs).toBeLessThanOrEqual(expected);
      expect(server.requests).toHaveLength(1);
    });
  }

  it('a 429 whose message says "try again in 250ms" is asked again after that wait', async () => {
    server.enqueue(saying('250ms')).otherwise(json(200, completion('ok')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL }));
    expect((await client.reply(request())).text).toBe('ok');
    const [a, b] = server.requests.map((r) => r.at);
    expect(b! - a!).toBeGreaterThanOrEqual(240);
  });

  it("the headers' wait wins over the message's; a 500's message is not read", async () => {
    server.enqueue(saying('9s', 429, { 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '6m0s' })).otherwise(json(200, completion('ok')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, maxInlineWaitMs: 200 }));
    expect((await failure(client.reply(request())))!.retryAfterMs).toBeGreaterThan(9_000);
    server.enqueue(saying('9s', 500));
    const retried = new OpenAiClient(testOptions({ baseURL: server.baseURL, maxInlineWaitMs: 200 }));
    expect((await retried.reply(request('b'))).text).toBe('ok');
  });

  it('reads x-ratelimit-reset-* on a 429 only: a 500 carrying them (OpenAI sends them on every answer) is retried as a failure', async () => {
    const spent = { 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '6m0s' };
    server.enqueue(error(500, spent)).otherwise(json(200, completion('ok')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, maxInlineWaitMs: 200 }));
    expect((await client.reply(request())).text).toBe('ok');
    expect(server.requests).toHaveLength(2);
  });

  it('a Retry-After wins over x-ratelimit-reset-*', async () => {
    server.enqueue(error(429, { 'retry-after': '120', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '6m0s' })).otherwise(json(200, completion('ok')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, maxInlineWaitMs: 200 }));
    const thrown = await failure(client.reply(request()));
    expect(thrown!.retryAfterMs).toBeGreaterThan(110_000);
    expect(thrown!.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('waits as long as each Retry-After says', async () => {
    server.enqueue(throttled(250), throttled(250)).otherwise(json(200, completion('ok')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL }));

    await client.reply(request());

    const [a, b, c] = server.requests.map((r) => r.at);
    expect(b! - a!).toBeGreaterThanOrEqual(240);
    expect(c! - b!).toBeGreaterThanOrEqual(240);
  });

  it('does not count the wait against the per-call deadline', async () => {
    // 1.2 s of waits against a 1 s deadline: room for each call itself on a loaded machine (300 ms may not be).
    server.enqueue(throttled(400), throttled(400), throttled(400)).otherwise(json(200, completion('in time')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, deadlineMs: 1_000 }));

    expect((await client.reply(request())).text).toBe('in time');
  });

  it('treats a 503 with Retry-After as a rate limit, and a bare 503 as a failure that opens the breaker', async () => {
    server.enqueue(error(503, { 'retry-after': '0' }), error(503, { 'retry-after': '0' }), json(200, completion('busy, then fine')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 1, breakerThreshold: 2 }));
    expect((await client.reply(request('a'))).text).toBe('busy, then fine');
    expect(client.circuit).toBe('closed');

    server.otherwise(error(503));
    expect(await failure(client.reply(request('b')))).toMatchObject({ kind: 'server' });
    expect(await failure(client.reply(request('c')))).toMatchObject({ kind: 'circuit_open' });
    expect(client.circuit).toBe('open');
  });

  it('hands a long wait back to the caller as a wait, with how long, rather than sleeping through it', async () => {
    server.otherwise(throttled(5_000));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, maxInlineWaitMs: 200 }));

    const err = await failure(client.reply(request()));

    expect(err).toMatchObject({ kind: 'rate_limited', retryable: true, isWait: true });
    expect(err!.retryAfterMs).toBeGreaterThan(4_000);
    expect(server.requests).toHaveLength(1);
  });

  it('blocks every caller while one 429 is running out, then lets them through', async () => {
    server.enqueue(throttled(300)).otherwise(json(200, completion('ok')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, maxConcurrent: 4 }));

    const first = client.reply(request('first'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const rest = await Promise.all(['b', 'c', 'd'].map((t) => client.reply(request(t))));
    await first;

    expect(rest.map((r) => r.text)).toEqual(['ok', 'ok', 'ok']);
    const blockedAt = server.requests[0]!.at;
    // No call reached the server while the provider's Retry-After ran.
    expect(server.requests.slice(1).every((r) => r.at - blockedAt >= 290)).toBe(true);
  });

  it('ends at once, not retryable, on a 429 insufficient_quota', async () => {
    server.otherwise(
      json(429, { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota', param: null } }, { 'retry-after': '1' }),
    );
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL }));

    const err = await failure(client.reply(request()));

    expect(err).toMatchObject({ kind: 'quota', retryable: false, isWait: false });
    expect(server.requests).toHaveLength(1);
    expect(client.circuit).toBe('closed');
  });

  it('waits out a 429 before a stream starts, and streams the answer', async () => {
    server.enqueue(throttled()).otherwise(sse(['Hel', 'lo']));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 1 }));

    const stream = client.stream(request());
    let text = '';
    for await (const chunk of stream.chunks) text += chunk;

    expect(text).toBe('Hello');
    expect(server.requests).toHaveLength(2);
  });
});

describe('fallback model', () => {
  const fallbackPair = (primaryOptions: Parameters<typeof testOptions>[0], afterMs = 60_000) => {
    const primary = new OpenAiClient(testOptions({ baseURL: server.baseURL, fallbackAfterMs: afterMs, ...primaryOptions }));
    const fallback = new OpenAiClient(testOptions({ baseURL: standIn.baseURL, model: 'small-model' }));
    return new FallbackAiClient(primary, fallback, afterMs);
  };

  it('answers while the primary circuit is open, and says which model answered', async () => {
    server.otherwise(error(500));
    standIn.otherwise(json(200, completion('from the fallback', undefined, 'small-model')));
    const client = fallbackPair({ attempts: 1, breakerThreshold: 1, breakerHalfOpenAfterMs: 60_000 });

    // The failure that opens the circuit hands over too.
    const first = await client.reply(request('one'));
    expect(first).toMatchObject({ text: 'from the fallback', model: 'small-model' });
    expect(client.circuit).toBe('open');
    const second = await client.reply(request('two'));
    expect(second.model).toBe('small-model');
    expect(server.requests).toHaveLength(1);
    expect(standIn.requests.map((r) => r.body.model)).toEqual(['small-model', 'small-model']);
  });

  it('does not hand over on a failure the primary would not be helped by (a 400)', async () => {
    server.otherwise(error(400));
    const client = fallbackPair({});

    expect(await failure(client.reply(request()))).toMatchObject({ kind: 'client' });
    expect(standIn.requests).toHaveLength(0);
  });

  it('answers once the primary has throttled for longer than the threshold, and not before', async () => {
    server.otherwise(throttled(100));
    standIn.otherwise(json(200, completion('stand-in', undefined, 'small-model')));
    const client = fallbackPair({ maxInlineWaitMs: 5_000 }, 400);

    const started = Date.now();
    const result = await client.reply(request());

    expect(result.model).toBe('small-model');
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(server.requests.length).toBeGreaterThanOrEqual(3);
  });

  it('streams from the fallback when the primary is down', async () => {
    server.otherwise(error(500));
    standIn.otherwise(sse(['fall', 'back']));
    const client = fallbackPair({ attempts: 1, breakerThreshold: 1, breakerHalfOpenAfterMs: 60_000 });

    const stream = client.stream(request());
    let text = '';
    for await (const chunk of stream.chunks) text += chunk;

    expect(text).toBe('fallback');
    expect((await stream.result).text).toBe('fallback');
  });

  it('never hands a stream over to the fallback once the primary has shown text', async () => {
    standIn.otherwise(sse(['whole ', 'answer']));
    // A primary that shows half an answer, then fails as an open circuit would.
    const primary = {
      circuit: 'closed' as const,
      reply: () => Promise.reject(new Error('not used')),
      stream: () => {
        const result = Promise.reject(new AiError('circuit_open', 'the provider failed mid-stream'));
        result.catch(() => undefined);
        return {
          chunks: (async function* () {
            yield 'half an ';
            await result;
          })(),
          result,
        };
      },
    };
    const client = new FallbackAiClient(primary, new OpenAiClient(testOptions({ baseURL: standIn.baseURL })), 0);

    const stream = client.stream(request());
    let text = '';
    const ended = await failure(
      (async () => {
        for await (const chunk of stream.chunks) text += chunk;
      })(),
    );

    expect(text).toBe('half an ');
    expect(ended).toMatchObject({ kind: 'circuit_open' });
    expect(standIn.requests).toHaveLength(0);
  });
});
