/**
 * A platform's API that answers a 5xx to the reply is down for now: a wait, not a failure, as one
 * that cannot be reached is. For Slack, WhatsApp (Twilio) and Intercom, end to end on a real server
 * in memory mode, the platform faked over HTTP: a message whose reply meets 500s for longer than
 * JOB_ATTEMPTS' backoff lasts (20 ms here) is answered once the platform is back, once, with no
 * apology, no dead letter and no failed reply counted; one whose platform stays down past
 * AI_MAX_WAIT_MS is given up (max_wait), and its apology waits for the platform in turn. A 502
 * whose gateway passed the reply on is looked for before it is posted again: never posted twice.
 * The waits show in /metrics (parley_platform_waits_total), so an outage can raise an alert.
 */
import type { AddressInfo } from 'node:net';
import { describe, expect, it, type TestContext } from 'vitest';
import { intercomAdapter, intercomConfigFromEnv } from '../../adapters/intercom/index.js';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Adapter, type Bot } from '../../src/index.js';
import { startFakeIntercom } from '../fakes/intercom-api.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack } from '../fakes/slack-api.js';
import { startFakeTwilio } from '../fakes/twilio-api.js';
import { DEFAULT_CLIENT_SECRET, conversationId, postIntercom, userCreated } from '../helpers/intercom-events.js';
import { startSlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';

/** Longer than the old way took to spend every attempt and give the message up (well under a second here). */
const DOWN_MS = 8000;
const APOLOGY = /^Sorry/;

/** How the platform answers a post: a 5xx, and whether it took the post all the same (a gateway's 502 after passing it on). */
interface Fault {
  status: number;
  taken?: boolean;
}

/** A bot on one platform whose fake API answers posts as `fault` says (none: as the platform does). */
interface World {
  bot: Bot;
  base: string;
  send(text: string): Promise<void>;
  /** Every post the bot made, taken or not. */
  calls(): number;
  /** The reads a look for an earlier post makes (and any other read of the conversation). */
  looks(): number;
  /** The texts the user can see: the posts the platform took. */
  seen: string[];
  /** The fault for the `nth` post (from 0); undefined answers as the platform does. */
  fault: (nth: number) => Fault | undefined;
  close(): Promise<void>;
}

async function startBot(adapter: Adapter, env: Record<string, string>): Promise<{ bot: Bot; base: string }> {
  const bot = createBot({ config: loadConfig(env), adapters: [adapter] });
  const server = await bot.listen(0, '127.0.0.1');
  await bot.ready;
  return { bot, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function slackWorld(ai: FakeOpenAi, env: Record<string, string>): Promise<World> {
  const slack = await startFakeSlack();
  const server = await startSlackBot(slack, ai, env);
  const world: World = {
    bot: server.bot,
    base: server.base,
    send: async (text) => void expect((await postSlack(server.url, appMention({ text }))).status).toBe(200),
    calls: () => slack.callsTo('chat.postMessage').length,
    looks: () => slack.callsTo('conversations.replies').length + slack.callsTo('conversations.history').length,
    seen: [],
    fault: () => undefined,
    close: async () => {
      await server.close();
      await slack.close();
    },
  };
  slack.on('chat.postMessage', (call, n) => {
    const fault = world.fault(n);
    if (!fault || fault.taken) world.seen.push(String(call.args.text));
    if (!fault) return undefined;
    const body = { ok: false, error: `fake_http_${fault.status}` };
    return fault.taken ? { status: fault.status, takenAtOnce: true, body } : { status: fault.status, body };
  });
  return world;
}

async function whatsappWorld(ai: FakeOpenAi, env: Record<string, string>): Promise<World> {
  const twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  const all = { ...env, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER, TWILIO_API_URL: twilio.url };
  const { bot, base } = await startBot(whatsappAdapter(whatsappConfigFromEnv(all)!), all);
  const world: World = {
    bot,
    base,
    send: async (text) => void expect((await postTwilio(`${base}/twilio/whatsapp`, whatsappMessage({ Body: text }))).status).toBe(200),
    calls: () => twilio.calls.length,
    looks: () => twilio.lists.length,
    seen: [],
    fault: () => undefined,
    close: async () => {
      await bot.close();
      await twilio.close();
    },
  };
  twilio.on((call, n) => {
    const fault = world.fault(n);
    if (!fault || fault.taken) world.seen.push(call.form.Body ?? '');
    return fault ? { ...twilio.error(fault.status, 20500, 'Internal Server Error'), taken: fault.taken === true } : undefined;
  });
  return world;
}

async function intercomWorld(ai: FakeOpenAi, env: Record<string, string>): Promise<World> {
  const intercom = await startFakeIntercom();
  const all = { ...env, INTERCOM_ACCESS_TOKEN: 'dG9rOnBhcmxleS10ZXN0LXRva2Vu', INTERCOM_CLIENT_SECRET: DEFAULT_CLIENT_SECRET, INTERCOM_API_URL: intercom.url };
  const { bot, base } = await startBot(intercomAdapter(intercomConfigFromEnv(all)!), all);
  const world: World = {
    bot,
    base,
    send: async (text) => void expect((await postIntercom(`${base}/intercom/webhook`, userCreated({ conversation: conversationId(), body: `<p>${text}</p>` }))).status).toBe(200),
    calls: () => intercom.callsTo('reply').length,
    looks: () => intercom.callsTo('conversation').length,
    seen: [],
    fault: () => undefined,
    close: async () => {
      await bot.close();
      await intercom.close();
    },
  };
  intercom.on('reply', (call, n) => {
    const fault = world.fault(n);
    // The reply's body is HTML: its text is enough here.
    if (!fault || fault.taken) world.seen.push(String(call.body.body).replace(/<[^>]+>/g, ''));
    return fault ? { status: fault.status, taken: fault.taken === true } : undefined;
  });
  return world;
}

/** A series of /metrics (0 when it has no line yet). */
async function scraped(base: string, series: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const platforms = { slack: slackWorld, whatsapp: whatsappWorld, intercom: intercomWorld };

// Each test has a bot and fakes of its own: they run at once, so the file takes about as long as its longest test.
describe.concurrent.each(Object.entries(platforms))('%s: its API answers the reply with a 5xx', (platform, startWorld) => {
  const start = async (onTestFinished: TestContext['onTestFinished'], env: Record<string, string> = {}) => {
    const ai = await startFakeOpenAi();
    const world = await startWorld(ai, { ...testEnv, OPENAI_BASE_URL: ai.url, RATE_LIMIT_USER_PER_MINUTE: '0', ...env });
    onTestFinished(async () => {
      await world.close();
      await ai.close();
    });
    return { ...world, world, ai };
  };

  it(`500 for ${DOWN_MS / 1000} s: the message waits (no attempt spent) and is answered once it is back, once, with no apology, no dead letter, no failed reply`, async ({ onTestFinished }) => {
    const { world, bot, base, ai } = await start(onTestFinished);
    let down = true;
    world.fault = () => (down ? { status: 500 } : undefined);
    await world.send('where is my parcel');
    await until(() => world.calls() > 0, 'the first post');
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    expect(await bot.deadLetters.list()).toEqual([]);
    // Waited, not spent: a few tries in all (5 s, then longer), not JOB_ATTEMPTS' worth in a moment and given up.
    expect(world.seen).toEqual([]);
    down = false;

    await until(() => world.seen.length > 0, 'the answer', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // nothing more arrives
    expect(world.seen).toEqual([expect.stringContaining('echo: where is my parcel')]);
    expect(await bot.deadLetters.list()).toEqual([]);
    expect(ai.calls).toHaveLength(1);
    expect(await scraped(base, `parley_replies_failed_total{platform="${platform}"}`)).toBe(0);
  }, 40_000);

  it('503: the outage shows in /metrics (parley_platform_waits_total, at 0 before), for an alert; no failed reply counted', async ({ onTestFinished }) => {
    const { world, base } = await start(onTestFinished);
    const waits = `parley_platform_waits_total{platform="${platform}"}`;
    const exposition = await (await fetch(`${base}/metrics`)).text();
    expect(exposition).toContain(`${waits} 0\n`); // at 0 from the adapter's start, so rate() sees the first wait
    let down = true;
    world.fault = () => (down ? { status: 503 } : undefined);
    await world.send('are you up');
    await until(async () => (await scraped(base, waits)) >= 1, 'the wait counted', 15_000);
    down = false;
    await until(() => world.seen.length > 0, 'the answer', 20_000);
    expect(world.seen).toEqual([expect.stringContaining('echo: are you up')]);
    expect(await scraped(base, `parley_replies_failed_total{platform="${platform}"}`)).toBe(0);
  }, 40_000);

  it('500 past AI_MAX_WAIT_MS: given up once (max_wait), and its apology waits for the platform instead of being dropped', async ({ onTestFinished }) => {
    const { world, bot } = await start(onTestFinished, { AI_MAX_WAIT_MS: '3000' });
    let down = true;
    world.fault = () => (down ? { status: 500 } : undefined);
    await world.send('is anyone there');

    const [letter] = await until(async () => {
      const letters = await bot.deadLetters.list();
      return letters.length > 0 && letters;
    }, 'the dead letter', 20_000);
    expect(letter).toMatchObject({ reason: 'max_wait', data: { type: 'message' } });
    expect(world.seen).toEqual([]);

    // The apology (a notice job) is waiting for the platform within AI_MAX_WAIT_MS of its own: back now, it is posted.
    down = false;
    await until(() => world.seen.length > 0, 'the apology', 15_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(world.seen).toEqual([expect.stringMatching(APOLOGY)]);
    expect((await bot.deadLetters.list()).map((dead) => dead.reason)).toEqual(['max_wait']);
  }, 40_000);

  it('a 502 whose gateway passed the reply on: the retry looks first, finds it, and never posts it again', async ({ onTestFinished }) => {
    const { world, bot } = await start(onTestFinished);
    world.fault = (n) => (n === 0 ? { status: 502, taken: true } : undefined);
    await world.send('did you get this');
    await until(() => world.calls() > 0, 'the first post');
    const before = world.looks();
    // After the wait (5 s), the retry looks; then a while for a second post that must not come.
    await until(() => world.looks() > before, 'the retry\'s look', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(world.calls()).toBe(1);
    expect(world.seen).toEqual([expect.stringContaining('echo: did you get this')]);
    expect(await bot.deadLetters.list()).toEqual([]);
  }, 40_000);
});
