/**
 * `parley check` prints what the AI provider answered when it is not a list of models: a proxy's
 * error page may quote the request back, its Authorization header with it. The key is never printed.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAi, checkAiFallback } from '../../cli/check.js';
import { loadConfig } from '../../src/index.js';

// Not shaped like an OpenAI key: only the configured value tells it is one.
const KEY = 'proxykey-SECRETprimary-0123456789';
const FALLBACK_KEY = 'proxykey-SECRETfallback-0123456789';

const echoing = createServer((request, response) => {
  response.writeHead(502, { 'content-type': 'text/html' });
  response.end(`<html>Bad gateway. Request was ${JSON.stringify({ url: request.url, headers: request.headers })}</html>`);
});

beforeAll(() => new Promise<void>((resolve) => echoing.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => echoing.close(() => resolve())));

describe('parley check, an AI provider whose error page quotes the request', () => {
  it('prints the answer with neither key in it', async () => {
    const { port } = echoing.address() as AddressInfo;
    const config = loadConfig({
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
      OPENAI_FALLBACK_MODEL: 'fallback-model',
      OPENAI_FALLBACK_API_KEY: FALLBACK_KEY,
    });
    const [ai, fallback] = await Promise.all([checkAi(config), checkAiFallback(config)]);
    expect(ai).toMatchObject({ ok: false, what: 'AI provider' });
    expect(fallback).toMatchObject({ ok: false, what: 'AI fallback provider' });
    // The provider's answer is shown (the status, the quoted request), its credential hidden.
    expect(ai.detail).toContain('502');
    expect(ai.detail).toContain('/v1/models');
    expect(JSON.stringify([ai, fallback])).not.toMatch(/SECRET/);
  });
});
