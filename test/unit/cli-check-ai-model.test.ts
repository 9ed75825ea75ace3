/**
 * `parley check` against an OpenAI-compatible server that does not serve the configured model (the
 * default gpt-4o-mini on Ollama, the README's first suggestion) says which variable to set and what
 * the server does serve: every reply would otherwise fail on a model it does not have.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkAi, checkAiFallback } from '../../cli/check.js';
import { loadConfig } from '../../src/index.js';

// Lists its models as Ollama's OpenAI-compatible API does.
const served = ['llama3.2', 'qwen2.5', 'mistral', 'phi3', 'gemma2', 'tinyllama'];
const ollama: Server = createServer((req, res) => {
  const data = served.map((id) => ({ id, object: 'model', created: 0, owned_by: 'library' }));
  if (req.url?.endsWith('/models')) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data }));
  else res.writeHead(404).end();
});
let baseUrl = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => ollama.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(ollama.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => ollama.close(() => resolve())));

it('names OPENAI_MODEL and some models the provider serves when the configured one is not among them', async () => {
  const ai = await checkAi(loadConfig({ OPENAI_BASE_URL: baseUrl }));
  expect(ai).toEqual({
    ok: 'warn',
    what: 'AI provider',
    detail: `${baseUrl}: reached; model gpt-4o-mini is not in its list of 6: set OPENAI_MODEL to one it serves (llama3.2, qwen2.5, mistral, phi3, gemma2, …)`,
  });
});

it('names OPENAI_FALLBACK_MODEL for the fallback', async () => {
  const fallback = await checkAiFallback(loadConfig({ OPENAI_BASE_URL: baseUrl, OPENAI_MODEL: 'llama3.2', OPENAI_FALLBACK_MODEL: 'gpt-4o' }));
  expect(fallback?.detail).toBe(`${baseUrl}: reached; model gpt-4o is not in its list of 6: set OPENAI_FALLBACK_MODEL to one it serves (llama3.2, qwen2.5, mistral, phi3, gemma2, …)`);
});

it('is ok when the configured model is served', async () => {
  expect(await checkAi(loadConfig({ OPENAI_BASE_URL: baseUrl, OPENAI_MODEL: 'llama3.2' }))).toEqual({ ok: true, what: 'AI provider', detail: `${baseUrl}: model llama3.2 is available` });
});
