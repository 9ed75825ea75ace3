/**
 * An adapter of your own whose `receive` fails on the body itself (JSON.parse, a zod schema, a
 * URIError) answers 400 malformed_body with a warn line, not 503: a 503 would have the platform send
 * the same body again and again. The answer never quotes the body. Any other failure stays a 503.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { z } from 'zod';
import { afterEach, expect, it } from 'vitest';
import { createBot, type Adapter, type Bot, type HttpRequest, type Received } from '../../src/index.js';

const Event = z.object({ id: z.string(), text: z.string() });

/** Reads its body as many adapters are first written: parse, then check, then receive. */
function ownAdapter(extra?: (request: HttpRequest) => void): Adapter {
  return {
    platform: 'chirp',
    path: '/chirp/events',
    contentTypes: ['application/json'],
    async receive(request: HttpRequest): Promise<Received> {
      extra?.(request);
      const event = Event.parse(JSON.parse(request.body.toString('utf8')));
      void event;
      return { response: { status: 200, body: 'ok' }, messages: [] };
    },
    async sendPart() {
      return null;
    },
  } as unknown as Adapter;
}

const bots: Bot[] = [];
afterEach(async () => {
  for (const bot of bots.splice(0)) await bot.close();
});

async function post(adapter: Adapter, body: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
  const bot = createBot({ adapters: [adapter], logger, worker: false, env: {} });
  bots.push(bot);
  const response = await bot.fetch(new Request('http://127.0.0.1/chirp/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body }), { remoteAddress: '127.0.0.1' });
  return { status: response.status, text: await response.text(), lines };
}

it.each([
  ['not JSON (SyntaxError)', '{"id": "e1", "text": secret-looking-body'],
  ['JSON not of its schema (ZodError)', '{"id": 7}'],
])('a body %s: 400 malformed_body and a warn line, the body not quoted back', async (_case, body) => {
  const { status, text, lines } = await post(ownAdapter(), body);
  expect(status).toBe(400);
  expect(JSON.parse(text)).toMatchObject({ error: { code: 'malformed_body' } });
  expect(text).not.toContain('secret-looking-body');
  expect(lines.some((line) => line.level === 40 && JSON.stringify(line).includes('malformed_body'))).toBe(true);
});

it('a body it reads: 200 as the adapter answers', async () => {
  expect((await post(ownAdapter(), '{"id": "e1", "text": "hi"}')).status).toBe(200);
});

it('another failure of receive (its own bug, a store it reads) stays a 503: the platform sends it again', async () => {
  const failing = ownAdapter(() => {
    throw new Error('could not reach the secrets service');
  });
  expect((await post(failing, '{"id": "e1", "text": "hi"}')).status).toBe(503);
});
