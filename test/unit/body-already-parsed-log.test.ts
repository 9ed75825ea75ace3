/**
 * A webhook whose body the embedding app's parser already consumed (express.json() in front of the
 * middleware, Hono's c.req.json() before the fetch handler) is refused 500 body_already_parsed with
 * one log line naming the fix, at error (the app's setup is wrong, not the sender), beside its
 * request line: not a second line for the same request.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createFetchHandler } from '../../src/http/fetch.js';
import { createNodeMiddleware } from '../../src/http/node.js';
import { createRouter } from '../../src/http/router.js';
import { createMetrics } from '../../src/observe/index.js';
import { FakeAdapter } from './helpers.js';

type Line = Record<string, unknown>;

function setUp() {
  const lines: Line[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  const router = createRouter({ adapters: () => [new FakeAdapter()], logger, metrics: createMetrics(), readiness: async () => ({}), accept: async () => ({ status: 200, body: 'accepted' }), paths: {} });
  const options = { bodyLimitBytes: 1024, logger, trustProxy: false };
  return { lines, middleware: createNodeMiddleware(router, options), fetchHandler: createFetchHandler(router, options) };
}

/** Every line but the request line: what was said about the refusal. */
const saidOf = (lines: Line[]) => lines.filter((line) => line.msg !== 'request');

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

describe('body_already_parsed is logged once per request', () => {
  it('behind express.json(): one error line naming the fix', async () => {
    const { lines, middleware } = setUp();
    const app = express().use(express.json()).use(middleware);
    const server = await new Promise<Server>((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
    servers.push(server);
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/test/hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"1"}' });
    expect(response.status).toBe(500);
    expect(saidOf(lines)).toEqual([expect.objectContaining({ level: 50, platform: 'test', reason: 'body_already_parsed', status: 500, path: '/test/hook', msg: expect.stringContaining('Mount parley before express.json()') })]);
    expect(lines.filter((line) => line.msg === 'request')).toHaveLength(1);
  });

  it('on the fetch handler given a request whose body was read: one error line naming the fix', async () => {
    const { lines, fetchHandler } = setUp();
    const request = new Request('http://127.0.0.1/test/hook', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"1"}' });
    await request.json();
    expect((await fetchHandler(request)).status).toBe(500);
    expect(saidOf(lines)).toEqual([expect.objectContaining({ level: 50, platform: 'test', reason: 'body_already_parsed', status: 500, path: '/test/hook', msg: expect.stringContaining('request.clone()') })]);
    expect(lines.filter((line) => line.msg === 'request')).toHaveLength(1);
  });
});
