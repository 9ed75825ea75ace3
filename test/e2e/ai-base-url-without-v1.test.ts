/**
 * OPENAI_BASE_URL without its /v1 (http://127.0.0.1:11434 for Ollama): `parley check` says so and
 * names the address that answers, and a reply's dead letter points at check, where both said only
 * "404 404 page not found". A server that answers as Ollama does (the API under /v1 only).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { checkAi, checkAiFallback } from '../../cli/check.js';
import { loadConfig } from '../../src/index.js';
import { until } from '../helpers/until.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

const ollama: Server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/v1/models') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'llama3.2', object: 'model', created: 0, owned_by: 'library' }] }));
    return;
  }
  req.resume();
  res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
});
let root = '';
let web: WebBot | undefined;

beforeAll(async () => {
  await new Promise<void>((resolve) => ollama.listen(0, '127.0.0.1', resolve));
  root = `http://127.0.0.1:${(ollama.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await web?.close();
  web = undefined;
});
afterAll(() => new Promise<void>((resolve) => ollama.close(() => resolve())));

it('check: a base URL without /v1 fails naming the address that answers', async () => {
  const ai = await checkAi(loadConfig({ OPENAI_BASE_URL: root, OPENAI_MODEL: 'llama3.2' }));
  expect(ai).toEqual({ ok: false, what: 'AI provider', detail: `${root}: 404 404 page not found for ${root}/models, but ${root}/v1 answers: set OPENAI_BASE_URL to ${root}/v1` });
});

it("check: the fallback's is named by its own variable; a path where /v1 does not answer either gets the general hint", async () => {
  const fallback = await checkAiFallback(loadConfig({ OPENAI_BASE_URL: `${root}/v1`, OPENAI_MODEL: 'llama3.2', OPENAI_FALLBACK_MODEL: 'llama3.2', OPENAI_FALLBACK_BASE_URL: `${root}/api` }));
  expect(fallback?.ok).toBe(false);
  expect(fallback?.detail).toBe(`${root}/api: 404 404 page not found for ${root}/api/models: OPENAI_FALLBACK_BASE_URL must be the API's base, where /chat/completions and /models are (most end in /v1)`);
});

it("serve: the 404 dead letter's error points at parley check", async () => {
  web = await startWebBot({ OPENAI_BASE_URL: root, OPENAI_MODEL: 'llama3.2', AI_ATTEMPTS: '1', JOB_ATTEMPTS: '1' });
  await web.post('no-v1', 'hello?');
  await web.waitFor('no-v1', (e) => assistantReplies(e).length === 1);
  const bot = web.bot;
  const [letter] = await until(async () => {
    const letters = await bot.deadLetters.list();
    return letters.length === 1 && letters;
  }, 'the dead letter');
  expect(letter!.error).toContain('AI provider answered 404 404 page not found (a model it does not serve, or a base URL without its /v1? `parley check` tells)');
});
