/**
 * A provider's error is said once: in the AiError's message (not "500: 500 <text>": the SDK's own
 * message starts with the status) and in the log line, whose error serializer would otherwise add
 * the SDK error's message (the cause) that the AiError's already quotes. Real sockets.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AiError, OpenAiClient } from '../../src/ai/index.js';
import { loggerOptions, serializeError } from '../../src/observe/logger.js';
import { FakeOpenAI, json } from './fake-openai.js';
import { request, testOptions } from './options.js';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
});
afterEach(() => server.stop());

/** The `err` of one line written by a logger with parley's options. */
function loggedError(error: unknown): { message: string } {
  const lines: string[] = [];
  const logger = pino(loggerOptions('info'), new Writable({ write: (line: Buffer, _e, done) => void (lines.push(String(line)), done()) }));
  logger.error({ err: error }, 'AI call failed');
  return (JSON.parse(lines[0]!) as { err: { message: string } }).err;
}

describe("a provider's error text", () => {
  it('is said once in the error and once in its log line', async () => {
    server.otherwise(json(500, { error: { message: 'fake error 500', type: 'server_error' } }));
    const failure = await new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 1 })).reply(request()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AiError);
    expect((failure as AiError).message).toBe('AI provider answered 500 fake error 500');
    expect(loggedError(failure).message).toBe('AI provider answered 500 fake error 500');
  });

  it('a body with no text still says its status', async () => {
    server.otherwise((res) => res.writeHead(503).end());
    const failure = await new OpenAiClient(testOptions({ baseURL: server.baseURL, attempts: 1 })).reply(request()).catch((e: unknown) => e);
    expect((failure as AiError).message).toBe('AI provider answered 503 status code (no body)');
  });
});

describe('serializeError with a cause', () => {
  it("adds a cause's message the error does not quote, and only once one it does", () => {
    expect((serializeError(new Error('could not post', { cause: new Error('socket hang up') })) as { message: string }).message).toBe('could not post: socket hang up');
    const inner = new Error('ECONNRESET');
    const middle = new Error('fetch failed: ECONNRESET', { cause: inner });
    expect((serializeError(new Error('AI connection failed: fetch failed: ECONNRESET', { cause: middle })) as { message: string }).message).toBe('AI connection failed: fetch failed: ECONNRESET');
  });
});
