import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAiClient, NoProviderAiClient, OpenAiClient, type AiUsage } from '../../src/ai/index.js';
import { completion, FakeOpenAI, json } from './fake-openai.js';
import { request, testOptions } from './options.js';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
});
afterEach(() => server.stop());

describe('reply', () => {
  it('sends system prompt, history and message to the configured model and reports usage and cost', async () => {
    server.enqueue(json(200, completion('Paris.', { prompt_tokens: 1_000, completion_tokens: 2_000 })));
    const usages: Array<{ model: string; usage: AiUsage }> = [];
    const calls: Array<{ ok: boolean }> = [];
    const client = new OpenAiClient(
      testOptions({ baseURL: server.baseURL, events: { onUsage: (e) => usages.push(e), onCall: (e) => calls.push(e) } }),
    );

    const result = await client.reply(
      request('And France?', [
        { role: 'user', text: 'Capital of Italy?', at: '2024-01-01T00:00:00Z' },
        { role: 'assistant', text: 'Rome.', at: '2024-01-01T00:00:01Z' },
      ]),
    );

    expect(server.requests).toHaveLength(1);
    const sent = server.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.body.model).toBe('gpt-4o-mini');
    expect(sent.body.messages).toEqual([
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Capital of Italy?' },
      { role: 'assistant', content: 'Rome.' },
      { role: 'user', content: 'And France?' },
    ]);
    // A compatible server gets the classic limit name.
    expect(sent.body.max_tokens).toBe(200);
    // No key configured: a placeholder, never an empty bearer.
    expect(sent.headers.authorization).toBe('Bearer not-needed');

    expect(result.text).toBe('Paris.');
    expect(result.model).toBe('gpt-4o-mini-2024-07-18');
    expect(result.cached).toBe(false);
    // 1000 × 0.15 / 1M + 2000 × 0.6 / 1M, priced through the snapshot's base name.
    expect(result.usage.inputTokens).toBe(1_000);
    expect(result.usage.outputTokens).toBe(2_000);
    expect(result.usage.costUsd).toBeCloseTo(0.00015 + 0.0012, 10);
    expect(usages).toEqual([{ model: 'gpt-4o-mini-2024-07-18', usage: result.usage }]);
    expect(calls).toMatchObject([{ ok: true, model: 'gpt-4o-mini' }]);
  });

  it('omits an empty system prompt and sends images as image_url parts', async () => {
    server.enqueue(json(200, completion('A cat.')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, systemPrompt: '' }));

    await client.reply({ ...request('What is this?'), imageUrls: ['https://example.com/cat.png'] });

    expect(server.requests[0]!.body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
        ],
      },
    ]);
  });

  it('costs nothing for a model missing from the price table', async () => {
    server.enqueue(json(200, completion('hi', { prompt_tokens: 50, completion_tokens: 50 }, 'llama3.2')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, model: 'llama3.2' }));

    const result = await client.reply(request());

    expect(result.usage).toEqual({ inputTokens: 50, outputTokens: 50, costUsd: 0 });
  });
});

describe('createAiClient', () => {
  it('answers with a notice naming the settings when no provider is configured', async () => {
    const client = createAiClient({ model: 'gpt-4o-mini' });

    expect(client).toBeInstanceOf(NoProviderAiClient);
    expect(await client.reply(request('ping'))).toEqual({
      text: '[parley] No AI provider configured (set OPENAI_API_KEY or OPENAI_BASE_URL). You said: "ping"',
      model: 'none',
      usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
      cached: false,
      notice: true,
    });
    expect(server.requests).toHaveLength(0);
  });

  it('talks to an OpenAI-compatible server when only a base URL is set, with defaults for the rest', async () => {
    server.enqueue(json(200, completion('local answer')));
    const client = createAiClient({ model: 'llama3.2', baseURL: server.baseURL, attempts: undefined });

    const result = await client.reply(request());

    expect(client).toBeInstanceOf(OpenAiClient);
    expect(result.text).toBe('local answer');
    expect(client.circuit).toBe('closed');
  });

  it('rejects nonsense settings with a message naming the option', () => {
    expect(() => createAiClient({ model: 'gpt-4o-mini', apiKey: 'sk-test', attempts: 0 })).toThrow(/attempts/);
  });
});
