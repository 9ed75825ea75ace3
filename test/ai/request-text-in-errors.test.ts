/**
 * A provider's error that quotes the request back (a validation error's `input`, as vLLM and
 * LiteLLM answer a 422; a proxy's error page) never puts the conversation's texts in a warning line
 * or the error kept as a dead letter's reason: message bodies are logged at debug only.
 */
import pino from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { OpenAiClient } from '../../src/ai/index.js';
import { loggerOptions } from '../../src/observe/logger.js';
import { completion, FakeOpenAI, json, type Handler } from './fake-openai.js';
import { request, testOptions } from './options.js';

const TEXT = 'PURPLEWOMBAT "asks" about the invoice';
const EARLIER = 'an EARLIERTURN about shipping';
const SHORT = 'hi';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
});
afterEach(() => server.stop());

function logged(): { text: () => string; logger: pino.Logger } {
  const lines: string[] = [];
  const logger = pino(loggerOptions('info'), { write: (line: string) => void lines.push(line) });
  return { text: () => lines.join('\n'), logger };
}

/** A 400 quoting the request's messages (as a LiteLLM proxy's refusal does). */
const validationError: Handler = (res, req) => {
  res.writeHead(400, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message: `Invalid request: messages=${JSON.stringify(req.body.messages)}`, type: 'invalid_request_error' } }));
};

/** A proxy's page quoting the request's body as it came. */
const proxyPage: Handler = (res, req) => {
  res.writeHead(502, { 'content-type': 'text/html' });
  res.end(`<html>Bad gateway. Request was ${JSON.stringify(req.body)}</html>`);
};

const history = [
  { role: 'user' as const, text: EARLIER, at: '2026-01-01T00:00:00Z' },
  { role: 'assistant' as const, text: SHORT, at: '2026-01-01T00:00:01Z' },
];

it('a retried call logs the provider page without the texts it quotes', async () => {
  const { text, logger } = logged();
  server.enqueue(proxyPage, json(200, completion('fine')));
  const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, logger }));
  expect((await ai.reply(request(TEXT, history))).text).toBe('fine');
  expect(text()).toContain('Bad gateway');
  expect(text()).toContain('<message text>');
  expect(text()).not.toMatch(/PURPLEWOMBAT|EARLIERTURN|"hi"|\\"hi\\"/);
});

it('a refused request: its error (logged, kept as the dead letter reason) holds no text of it', async () => {
  const { text, logger } = logged();
  server.otherwise(validationError);
  const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, logger }));
  const error = await ai.reply(request(TEXT, history)).then(() => undefined, (e: unknown) => e as Error);
  expect(error?.message).toMatch(/400/);
  expect(error?.message).toContain('<message text>');
  logger.warn({ err: error }, 'message failed');
  expect(`${error?.message} ${error?.stack} ${text()}`).not.toMatch(/PURPLEWOMBAT|EARLIERTURN|"hi"|\\"hi\\"/);
});

it('a stream refused the same way', async () => {
  const { text, logger } = logged();
  server.otherwise(validationError);
  const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, logger }));
  const error = await ai.stream(request(TEXT, history)).result.then(() => undefined, (e: unknown) => e as Error);
  expect(error?.message).toMatch(/400/);
  logger.warn({ err: error }, 'message failed');
  expect(`${error?.message} ${error?.stack} ${text()}`).not.toMatch(/PURPLEWOMBAT|EARLIERTURN|"hi"|\\"hi\\"/);
});
