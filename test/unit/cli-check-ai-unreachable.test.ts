/**
 * `parley check` names why it could not reach the AI provider — the refused connection's host and
 * port, or no answer in time — rather than the openai SDK's "Connection error." and "Request timed
 * out.", and never prints the key or OPENAI_BASE_URL's user and password.
 */
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAi, checkAiFallback } from '../../cli/check.js';
import { loadConfig } from '../../src/index.js';
import { freePort } from '../helpers/processes.js';

const KEY = 'sk-SECRETcheckkey0123456789abcdef';

// Takes connections and never answers.
const sockets = new Set<Socket>();
const silent = createServer((socket) => {
  sockets.add(socket);
  socket.on('error', () => undefined);
});

beforeAll(() => new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve)));
afterAll(() => {
  for (const socket of sockets) socket.destroy();
  return new Promise<void>((resolve) => silent.close(() => resolve()));
});

describe('parley check, an AI provider it cannot reach', () => {
  it('names the refused connection (host:port) for the provider and its fallback; no key, no password', async () => {
    const port = await freePort();
    const fallbackPort = await freePort();
    const config = loadConfig({
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: `http://aiuser:SECRETaipass@127.0.0.1:${port}/v1`,
      OPENAI_FALLBACK_MODEL: 'fallback-model',
      OPENAI_FALLBACK_BASE_URL: `http://127.0.0.1:${fallbackPort}/v1`,
    });
    const [ai, fallback] = await Promise.all([checkAi(config), checkAiFallback(config)]);
    expect(ai).toEqual({ ok: false, what: 'AI provider', detail: `http://…@127.0.0.1:${port}/v1: connect ECONNREFUSED 127.0.0.1:${port}` });
    expect(fallback).toEqual({ ok: false, what: 'AI fallback provider', detail: `http://127.0.0.1:${fallbackPort}/v1: connect ECONNREFUSED 127.0.0.1:${fallbackPort}` });
    expect(JSON.stringify([ai, fallback])).not.toMatch(/SECRET|aiuser|Connection error/);
  });

  it('says a provider that takes the connection and never answers gave no answer in time', async () => {
    const { port } = silent.address() as { port: number };
    const ai = await checkAi(loadConfig({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` }));
    expect(ai).toEqual({ ok: false, what: 'AI provider', detail: `http://127.0.0.1:${port}/v1: no answer within 10 s` });
  }, 30_000);
});
