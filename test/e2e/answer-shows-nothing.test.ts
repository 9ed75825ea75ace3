/**
 * An answer whose markdown formats to nothing on the platform (a bare `#` heading: no title) is
 * shown as written, not dropped: posting nothing left the user with silence while the message was
 * logged as answered. Real server; Slack, Twilio and the AI faked over HTTP.
 */
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

type Line = { msg: string };

describe('an answer that formats to nothing', () => {
  const closers: (() => Promise<unknown>)[] = [];
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    lines.length = 0;
  });
  const answered = () => until(() => lines.find((line) => line.msg === 'message answered'), 'the message to be answered', 10_000);

  it('on Slack: the answer is posted as written', async () => {
    const slack: FakeSlack = await startFakeSlack();
    closers.push(() => slack.close());
    const ai: FakeOpenAi = await startFakeOpenAi(() => ({ text: '#' }));
    closers.push(() => ai.close());
    const server: SlackBot = await startSlackBot(slack, ai, {}, undefined, { bot: { logger } });
    closers.push(() => server.close());
    await postSlack(server.url, appMention({ text: 'say nothing' }));
    await answered();
    expect(slack.callsTo('chat.postMessage').map((call) => call.args.text)).toEqual(['#']);
  });

  it('on WhatsApp: the answer is sent as written', async () => {
    const twilio: FakeTwilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    closers.push(() => twilio.close());
    const ai = await startFakeOpenAi(() => ({ text: '## ' }));
    closers.push(() => ai.close());
    const env = { ...testEnv, OPENAI_BASE_URL: ai.url, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER, TWILIO_API_URL: twilio.url };
    const bot: Bot = createBot({ config: loadConfig(env), adapters: [whatsappAdapter(whatsappConfigFromEnv(env)!)], logger });
    const listening = await bot.listen(0, '127.0.0.1');
    closers.push(() => bot.close());
    await bot.ready;
    const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}/twilio/whatsapp`;
    expect((await postTwilio(url, whatsappMessage({ Body: 'say nothing' }))).status).toBe(200);
    await answered();
    expect(twilio.messages.map((message) => message.body)).toEqual(['##']);
  });
});
