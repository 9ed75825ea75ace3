/**
 * A WhatsApp message the full in-process queue could not take (QUEUE_MAX_MESSAGES) is answered in
 * this process, since Twilio never redelivers: its "message answered" line carries the webhook's
 * request id as the worker's does. Twilio and the AI are faked over HTTP.
 */
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { ACCOUNT_SID, AUTH_TOKEN, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { whatsappTestEnv } from '../helpers/whatsapp-redis-down.js';
import { until } from '../helpers/until.js';

type Line = { msg: string; requestId?: string };
const closing: (() => Promise<unknown>)[] = [];
let release = () => {};
afterAll(async () => {
  release();
  for (const close of closing.reverse()) await close();
});

describe('the request id of a message answered in this process (the in-process queue full)', () => {
  it('is on its "message answered" line, as on the queued one', async () => {
    const held = new Promise<void>((resolve) => (release = resolve));
    const ai: FakeOpenAi = await startFakeOpenAi(() => ({ text: 'answer', hold: held }));
    closing.push(() => ai.close());
    const twilioApi: FakeTwilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    closing.push(() => twilioApi.close());
    const env = whatsappTestEnv(twilioApi, ai, { QUEUE_MAX_MESSAGES: '1', WORKER_CONCURRENCY: '1' });
    const lines: Line[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
    const bot = createBot({ config: loadConfig(env), adapters: [whatsappAdapter(whatsappConfigFromEnv(env)!)], logger });
    closing.push(() => bot.close());
    const url = `http://127.0.0.1:${((await bot.listen(0, '127.0.0.1')).address() as AddressInfo).port}/twilio/whatsapp`;
    await bot.ready;

    const post = (body: string, from: string, requestId: string) => postTwilio(url, whatsappMessage({ Body: body, From: from }), { headers: { 'x-request-id': requestId } });
    expect((await post('queued', 'whatsapp:+15550000001', 'edge-queued')).status).toBe(200);
    await until(() => ai.calls.length === 1, 'the queued message at the AI');
    // The queue is full: this one is answered here.
    expect((await post('here', 'whatsapp:+15550000002', 'edge-here')).status).toBe(200);
    await until(() => ai.calls.length === 2, 'the message answered here at the AI');
    release();
    const answered = await until(() => lines.filter((line) => line.msg === 'message answered').length === 2 && lines.filter((line) => line.msg === 'message answered'), 'both answered');
    expect(answered.map((line) => line.requestId).sort()).toEqual(['edge-here', 'edge-queued']);
  });
});
