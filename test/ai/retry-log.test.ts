/**
 * The warn line of an AI call that failed and is tried again says why: a provider that sent a
 * proxy's page, a malformed stream or a refused connection once, then answered, leaves this line
 * as the only trace, and `kind: server` alone does not tell an operator what came. Its secrets
 * are hidden as in every parley log line (the `err` serializer).
 */
import pino from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { OpenAiClient } from '../../src/ai/index.js';
import { loggerOptions } from '../../src/observe/logger.js';
import { completion, FakeOpenAI, json, type Handler } from './fake-openai.js';
import { request, testOptions } from './options.js';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
});
afterEach(() => server.stop());

type Line = { msg: string; kind?: string; err?: { message?: string } };

function logged(): { lines: Line[]; logger: pino.Logger } {
  const lines: Line[] = [];
  const logger = pino(loggerOptions('info'), { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  return { lines, logger };
}

const loginPage: Handler = (res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<html><body>Please sign in to the corporate gateway</body></html>');
};

const malformedStream: Handler = (res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.end('data: {not json\n\ndata: [DONE]\n\n');
};

it('a retry after a page that is no chat completion logs what came, never the page', async () => {
  const { lines, logger } = logged();
  server.enqueue(loginPage, json(200, completion('fine')));
  const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, logger }));
  expect((await ai.reply(request())).text).toBe('fine');
  const retry = lines.find((line) => line.msg === 'AI call failed, retrying');
  expect(retry).toMatchObject({ kind: 'server' });
  expect(retry?.err?.message).toMatch(/not a chat completion/);
  expect(JSON.stringify(retry)).not.toContain('Please sign in');
});

it('a retry after a malformed stream logs why', async () => {
  const { lines, logger } = logged();
  server.enqueue(malformedStream);
  server.otherwise((res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'fine' }, finish_reason: 'stop' }] })}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, logger }));
  expect((await ai.stream(request()).result).text).toBe('fine');
  const retry = lines.find((line) => line.msg === 'AI call failed, retrying');
  expect(retry?.err?.message).toBeTruthy();
});

it('the reason logged hides the API key a provider quotes', async () => {
  const { lines, logger } = logged();
  const key = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';
  server.enqueue(json(500, { error: { message: `upstream refused ${key}`, type: 'server_error' } }), json(200, completion('fine')));
  const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, apiKey: key, logger }));
  expect((await ai.reply(request())).text).toBe('fine');
  const retry = lines.find((line) => line.msg === 'AI call failed, retrying');
  expect(retry?.err?.message).toBeTruthy();
  expect(JSON.stringify(lines)).not.toContain(key);
});
