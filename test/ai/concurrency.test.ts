import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenAiClient } from '../../src/ai/index.js';
import { completion, delayed, FakeOpenAI, json } from './fake-openai.js';
import { request, testOptions } from './options.js';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
  server.otherwise(delayed(150, json(200, completion('done'))));
});
afterEach(() => server.stop());

const overlaps = (spans: Array<[number, number]>) =>
  spans.some(([s1, e1], i) => spans.some(([s2], j) => i !== j && s2 >= s1 && s2 < e1));

describe('concurrency limit', () => {
  it('never lets two calls overlap at the server with maxConcurrent 1', async () => {
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, maxConcurrent: 1 }));

    const results = await Promise.all([client.reply(request('one')), client.reply(request('two'))]);

    expect(results.map((r) => r.text)).toEqual(['done', 'done']);
    expect(server.requests).toHaveLength(2);
    expect(server.maxActive).toBe(1);
    expect(overlaps(server.spans)).toBe(false);
  });

  it('runs calls side by side up to maxConcurrent', async () => {
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, maxConcurrent: 3 }));

    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((t) => client.reply(request(t))));

    expect(server.requests).toHaveLength(5);
    expect(server.maxActive).toBe(3);
  });

  it('hands back with kind "overloaded" and a wait when no slot frees up within maxInlineWaitMs', async () => {
    server.otherwise(delayed(1_000, json(200, completion('done'))));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, maxConcurrent: 1, maxInlineWaitMs: 200 }));

    const settled = await Promise.allSettled(['a', 'b'].map((t) => client.reply(request(t))));

    // The first call holds the only slot for a second; the second gives up waiting after 200 ms.
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected']);
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ kind: 'overloaded', isWait: true });
    expect((settled[1] as PromiseRejectedResult).reason.retryAfterMs).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(1);
  });
});
