/**
 * The one line a webhook gets at info (its request line) says what became of its message:
 * `outcome` queued, duplicate (a redelivery, dropped without a line of its own), rate_limited,
 * ignored (a bot's message), control (a challenge, a ping, a status callback), answered (MODE=direct).
 * A real server with the Slack, WhatsApp and Intercom adapters, fed signed webhooks (README, Operations, Logs).
 */
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intercomAdapter, intercomConfigFromEnv } from '../../adapters/intercom/index.js';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeIntercom, type FakeIntercom } from '../fakes/intercom-api.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { DEFAULT_CLIENT_SECRET, ping, postIntercom, userCreated } from '../helpers/intercom-events.js';
import { appMention, botMessage, postSlack, urlVerification } from '../helpers/slack-events.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, postTwilio, statusCallback, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';

type Line = Record<string, unknown>;

describe('the request line says what became of the message', () => {
  const lines: Line[] = [];
  let slack: FakeSlack;
  let intercom: FakeIntercom;
  let ai: FakeOpenAi;
  const bots: Bot[] = [];

  async function start(env: Record<string, string>): Promise<string> {
    const all = {
      ...testEnv,
      OPENAI_BASE_URL: ai.url,
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: 'test-signing-secret',
      SLACK_API_URL: slack.url,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_WHATSAPP_FROM: BOT_NUMBER,
      TWILIO_API_URL: 'http://127.0.0.1:9',
      INTERCOM_ACCESS_TOKEN: 'dG9rOnBhcmxleS10ZXN0LXRva2Vu',
      INTERCOM_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      INTERCOM_API_URL: intercom.url,
      ...env,
    };
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
    const adapters = [slackAdapter(slackConfigFromEnv(all)!), whatsappAdapter(whatsappConfigFromEnv(all)!), intercomAdapter(intercomConfigFromEnv(all)!)];
    // No worker: what the webhook's answer says is all this is about (a queued message stays queued).
    const bot = createBot({ config: loadConfig(all), adapters, logger, worker: false });
    bots.push(bot);
    const server = await bot.listen(0, '127.0.0.1');
    await bot.ready;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** The request line of `res`'s webhook (found by its X-Request-Id), once it is written. */
  const requestLine = (res: Response): Promise<Line> => {
    const requestId = res.headers.get('x-request-id');
    return until(() => lines.find((line) => line.msg === 'request' && line.requestId === requestId), `the request line of ${requestId}`);
  };
  const outcomeOf = async (res: Response, status = 200): Promise<unknown> => {
    expect(res.status).toBe(status);
    return (await requestLine(res)).outcome;
  };

  beforeAll(async () => {
    slack = await startFakeSlack();
    intercom = await startFakeIntercom();
    ai = await startFakeOpenAi();
  });
  afterAll(async () => {
    await Promise.all(bots.map((bot) => bot.close()));
    await Promise.all([slack?.close(), intercom?.close(), ai?.close()]);
  });

  it('queue mode: queued, duplicate, rate_limited, ignored, control on Slack, WhatsApp and Intercom', async () => {
    const origin = await start({ RATE_LIMIT_USER_PER_MINUTE: '2' });
    const events = `${origin}/slack/events`;

    expect(await outcomeOf(await postSlack(events, urlVerification('challenge-1')))).toBe('control');
    const mention = appMention({ text: 'hello', user: 'U0FIRST' });
    expect(await outcomeOf(await postSlack(events, mention))).toBe('queued');
    // Slack's retry of the same event: a 200 like any other, its line the only trace of it at info.
    expect(await outcomeOf(await postSlack(events, mention, { retryNum: 1 }))).toBe('duplicate');
    expect(await outcomeOf(await postSlack(events, botMessage({ botId: 'B0OTHER', text: 'beep' })))).toBe('ignored');
    expect(await outcomeOf(await postSlack(events, appMention({ text: 'one', user: 'U0BUSY' })))).toBe('queued');
    expect(await outcomeOf(await postSlack(events, appMention({ text: 'two', user: 'U0BUSY' })))).toBe('queued');
    expect(await outcomeOf(await postSlack(events, appMention({ text: 'three', user: 'U0BUSY' })))).toBe('rate_limited');

    const twilio = `${origin}/twilio/whatsapp`;
    const message = whatsappMessage({ Body: 'hi there' });
    expect(await outcomeOf(await postTwilio(twilio, message))).toBe('queued');
    expect(await outcomeOf(await postTwilio(twilio, message))).toBe('duplicate');
    expect(await outcomeOf(await postTwilio(twilio, statusCallback('delivered')))).toBe('control');

    const webhook = `${origin}/intercom/webhook`;
    expect(await outcomeOf(await postIntercom(webhook, ping()))).toBe('control');
    const created = userCreated({ body: '<p>Where is my order?</p>' });
    expect(await outcomeOf(await postIntercom(webhook, created))).toBe('queued');
    expect(await outcomeOf(await postIntercom(webhook, created))).toBe('duplicate');

    // A refusal says itself by its status; a request that is not a webhook has no outcome.
    const health = await fetch(`${origin}/healthz`);
    expect(await requestLine(health)).not.toHaveProperty('outcome');
  });

  it('direct mode: a message answered in the request says answered', async () => {
    const origin = await start({ MODE: 'direct' });
    expect(await outcomeOf(await postSlack(`${origin}/slack/events`, appMention({ text: 'hello directly', user: 'U0DIRECT' })))).toBe('answered');
    expect(await outcomeOf(await postTwilio(`${origin}/twilio/whatsapp`, whatsappMessage({ Body: 'hi directly' })))).toBe('answered');
  });
});
