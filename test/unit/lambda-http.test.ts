/**
 * lambdaHandler given an event no Web Request can be made of (a header value with a line break,
 * a host that is no URL's, TRACE): answered as the router answers any refusal — parley's error
 * shape, a warn line and the request line, X-Request-Id, counted on a webhook's path — not with
 * a body of its own.
 */
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { lambdaHandler } from '../../aws/index.js';
import { createBot, loadConfig, MemoryStore, type Bot } from '../../src/index.js';
import { httpApiEvent, restApiEvent } from '../helpers/lambda-events.js';
import { testEnv } from '../helpers/web-bot.js';
import { FakeAdapter } from './helpers.js';

type Line = Record<string, unknown>;
const bots: Bot[] = [];
afterEach(async () => {
  for (const bot of bots.splice(0)) await bot.close();
});

function setUp() {
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  const bot = createBot({ config: loadConfig({ ...testEnv, MODE: 'direct', OPENAI_API_KEY: 'test-key' }), logger, store: new MemoryStore(), adapters: [new FakeAdapter()] });
  bots.push(bot);
  return { lines, bot, handler: lambdaHandler(bot) };
}

async function rejected(bot: Bot, reason: string): Promise<number> {
  const { values } = await bot.metrics.webhooksRejected.get();
  return values.find((v) => v.labels.platform === 'test' && v.labels.reason === reason)?.value ?? 0;
}

const hook = { method: 'POST' as const, path: '/test/hook', headers: { 'content-type': 'application/json' }, body: '{"id":"1"}' };

describe('lambdaHandler, an event no Request can be made of', () => {
  it('a header value with a line break: 400 in parley’s error shape, logged, with the request line and X-Request-Id, counted as a refused webhook', async () => {
    const { lines, bot, handler } = setUp();
    const result = await handler(httpApiEvent({ ...hook, headers: { ...hook.headers, 'x-note': 'a\nsecret-value' } }));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toEqual({ error: { code: 'bad_request', message: expect.stringContaining('a header value') } });
    expect(result.headers['content-type']).toContain('application/json');
    const requestId = result.headers['x-request-id'];
    expect(requestId).toBeTruthy();
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, platform: 'test', reason: 'bad_request', status: 400, remoteAddress: '203.0.113.7' }));
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'request', requestId, method: 'POST', path: '/test/hook', status: 400 }));
    expect(JSON.stringify(lines)).not.toContain('secret-value');
    expect(await rejected(bot, 'bad_request')).toBe(1);
  });

  it('a host that is no URL’s (REST event) and TRACE: the same shape; off a webhook’s path, logged but not counted', async () => {
    const { lines, bot, handler } = setUp();
    const badHost = restApiEvent({ ...hook, headers: { ...hook.headers, Host: 'a b' } });
    const trace = httpApiEvent({ method: 'GET', path: '/healthz', headers: {}, body: '' });
    trace.requestContext.http.method = 'TRACE';
    for (const event of [badHost, trace]) {
      const result = await handler(event);
      expect(result.statusCode).toBe(400);
      expect((JSON.parse(result.body) as { error: { code: string } }).error.code).toBe('bad_request');
    }
    expect(lines.filter((line) => line.msg === 'request').map((line) => [line.path, line.status])).toEqual([['/test/hook', 400], ['/healthz', 400]]);
    expect(await rejected(bot, 'bad_request')).toBe(1);
  });

  it('an HTTP API (v2) event without requestContext.http (hand-made): 400 in parley’s error shape with its request line, not a TypeError', async () => {
    const { lines, bot, handler } = setUp();
    const event = { ...httpApiEvent(hook), requestContext: {} } as unknown as Parameters<typeof handler>[0];
    const result = await handler(event);
    expect(result.statusCode).toBe(400);
    expect((JSON.parse(result.body) as { error: { code: string } }).error.code).toBe('bad_request');
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'request', path: '/test/hook', status: 400 }));
    expect(await rejected(bot, 'bad_request')).toBe(1);
  });

  it('a body API Gateway already inflated, its Content-Encoding left on, is taken; a body still gzip-encoded is refused 415', async () => {
    const { bot, handler } = setUp();
    const inflated = await handler(restApiEvent({ ...hook, headers: { ...hook.headers, 'Content-Encoding': 'gzip' } }));
    expect(inflated.statusCode).toBe(200);
    const deflated = await handler(restApiEvent({ ...hook, body: '{"id":"2"}', headers: { ...hook.headers, 'Content-Encoding': 'deflate' } }));
    expect(deflated.statusCode).toBe(200);
    const gzipped = httpApiEvent({ ...hook, headers: { ...hook.headers, 'content-encoding': 'gzip' }, body: '' });
    Object.assign(gzipped, { body: gzipSync('{"id":"3"}').toString('base64'), isBase64Encoded: true });
    const refused = await handler(gzipped);
    expect(refused.statusCode).toBe(415);
    expect((JSON.parse(refused.body) as { error: { code: string } }).error.code).toBe('unsupported_content_encoding');
    expect(await rejected(bot, 'unsupported_content_encoding')).toBe(1);
  });

  it('a Content-Type repeated in multiValueHeaders reads as its first value, as Node reads it', async () => {
    const { handler } = setUp();
    const event = restApiEvent(hook);
    event.multiValueHeaders = { ...event.multiValueHeaders, 'content-type': ['application/json', 'application/json'] };
    expect((await handler(event)).statusCode).toBe(200);
  });

  it('a REST event with one form of its headers and query empty (a hand-made or test event) reads the other', async () => {
    const { handler } = setUp();
    const event = restApiEvent(hook);
    event.multiValueHeaders = {};
    event.multiValueQueryStringParameters = {};
    expect((await handler(event)).statusCode).toBe(200);
    const onlyMulti = restApiEvent(hook);
    onlyMulti.headers = {};
    expect((await handler(onlyMulti)).statusCode).toBe(200);
  });

  it('a header a REST event lists under two spellings keeps the values of both, in order, as before both forms were read', async () => {
    const { bot, handler } = setUp();
    const adapter = bot.adapters[0] as FakeAdapter;
    const event = restApiEvent(hook);
    event.headers = { ...event.headers, 'X-Trace': 'a', 'x-trace': 'b' };
    event.multiValueHeaders = { ...event.multiValueHeaders, 'X-Trace': ['a'], 'x-trace': ['b'] };
    expect((await handler(event)).statusCode).toBe(200);
    expect(adapter.received[0]?.headers['x-trace']).toBe('a, b');
  });
});
