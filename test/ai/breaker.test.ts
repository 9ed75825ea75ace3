import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AiError, OpenAiClient } from '../../src/ai/index.js';
import { completion, error, FakeOpenAI, json } from './fake-openai.js';
import { request, testOptions } from './options.js';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
});
afterEach(() => server.stop());

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as AiError);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('circuit breaker', () => {
  it('opens after consecutive failures, fails fast without calling, then probes and recovers', async () => {
    server.enqueue(error(500), error(500), error(500), error(500));
    const client = new OpenAiClient(
      // Open for 1 s: a loaded machine's pauses between the calls below stay inside it.
      testOptions({ baseURL: server.baseURL, attempts: 2, breakerThreshold: 4, breakerHalfOpenAfterMs: 1_000 }),
    );

    // Two replies × two attempts = four consecutive failures: the threshold.
    expect(await failure(client.reply(request('one')))).toMatchObject({ kind: 'server' });
    expect(client.circuit).toBe('closed');
    // The failure that opened the circuit says so, and when to come back: a queue waits, no attempt spent.
    const opening = await failure(client.reply(request('two')));
    expect(opening).toMatchObject({ kind: 'circuit_open', isWait: true });
    expect(opening!.retryAfterMs).toBeGreaterThan(800);
    expect((opening!.cause as AiError).kind).toBe('server');
    expect(client.circuit).toBe('open');
    expect(server.requests).toHaveLength(4);

    const started = Date.now();
    const fast = await failure(client.reply(request('three')));
    expect(fast).toBeInstanceOf(AiError);
    expect(fast).toMatchObject({ kind: 'circuit_open', retryable: true });
    expect(Date.now() - started).toBeLessThan(800); // not waiting the open circuit out
    expect(server.requests).toHaveLength(4);

    await sleep(1_050);
    expect(client.circuit).toBe('half-open');
    server.enqueue(json(200, completion('back again')));
    const probe = await client.reply(request('four'));
    expect(probe.text).toBe('back again');
    expect(server.requests).toHaveLength(5);
    expect(client.circuit).toBe('closed');
  });

  it('a probe that ends in a client error closes the circuit with its count back at zero: one later 5xx does not open it again', async () => {
    server.enqueue(error(500), error(500), error(500));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 1, breakerThreshold: 3, breakerHalfOpenAfterMs: 200 }));
    for (const text of ['a', 'b', 'c']) await failure(client.reply(request(text)));
    expect(client.circuit).toBe('open');
    await sleep(250);
    server.enqueue(error(400));
    expect(await failure(client.reply(request('the probe')))).toMatchObject({ kind: 'client' });
    expect(client.circuit).toBe('closed');
    server.enqueue(error(500));
    await failure(client.reply(request('one passing failure')));
    expect(client.circuit).toBe('closed');
  });

  it('opens again when the half-open probe fails', async () => {
    server.otherwise(error(503));
    const client = new OpenAiClient(
      // Open for 1 s: the call right after the failed probe lands inside it on a loaded machine.
      testOptions({ baseURL: server.baseURL, attempts: 1, breakerThreshold: 1, breakerHalfOpenAfterMs: 1_000 }),
    );

    await failure(client.reply(request('a')));
    expect(client.circuit).toBe('open');
    await sleep(1_050);
    const probe = await failure(client.reply(request('b')));
    expect(probe).toMatchObject({ kind: 'circuit_open' });
    expect((probe!.cause as AiError).kind).toBe('server');
    expect(client.circuit).toBe('open');
    expect(await failure(client.reply(request('c')))).toMatchObject({ kind: 'circuit_open' });
    expect(server.requests).toHaveLength(2);
  });

  it('is not opened by client errors, which say nothing about the provider', async () => {
    server.otherwise(error(400));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, breakerThreshold: 2 }));

    for (const text of ['a', 'b', 'c']) {
      expect(await failure(client.reply(request(text)))).toMatchObject({ kind: 'client' });
    }
    expect(client.circuit).toBe('closed');
    expect(server.requests).toHaveLength(3);
  });

  it('stops retrying a reply once the circuit opens under it', async () => {
    server.otherwise(error(500));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 5, breakerThreshold: 2 }));

    const err = await failure(client.reply(request()));

    expect(err).toMatchObject({ kind: 'circuit_open' });
    expect(server.requests).toHaveLength(2);
  });
});
