/**
 * A platform API down when the server starts (issue 9, "Starting never blocks serving"): Slack's
 * auth.test and Intercom's GET /me fail, then come back. Meanwhile /healthz answers at once,
 * /readyz stays 200 and names each adapter's state, signed webhooks are acknowledged and queued,
 * and WhatsApp and the web chat are answered. Once the APIs are back, every queued message is
 * answered exactly once. parley runs as `parley serve` in a process of its own, so /healthz is
 * timed as a load balancer sees it; Slack, Intercom, Twilio and the AI are faked over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeIntercom, type FakeIntercom } from '../fakes/intercom-api.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { adminReplied, conversationId, postIntercom, userCreated } from '../helpers/intercom-events.js';
import { appMention, postSlack, slashCommand } from '../helpers/slack-events.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { startParley, type ParleyProcess } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

const TEAMMATE = '5150';

interface Readiness {
  status: string;
  checks: Record<string, string>;
  adapters: Record<string, string>;
}

describe('a platform API down at start, then back', () => {
  let slack: FakeSlack;
  let intercom: FakeIntercom;
  let twilio: FakeTwilio;
  let ai: FakeOpenAi;
  let parley: ParleyProcess;
  let base: string;
  let slackDown = true;
  let intercomDown = true;
  const healthMs: number[] = [];
  let sampling = true;
  let sampler: Promise<void> | undefined;

  beforeAll(async () => {
    slack = await startFakeSlack();
    intercom = await startFakeIntercom();
    twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    ai = await startFakeOpenAi();
    slack.on('auth.test', () => (slackDown ? { status: 500 } : undefined));
    intercom.on('me', () => (intercomDown ? { status: 503, body: { type: 'error.list', errors: [{ code: 'service_unavailable', message: 'down' }] } } : undefined));
    const env = {
      HOST: '127.0.0.1',
      JOB_BACKOFF_MS: '20',
      OPENAI_BASE_URL: ai.url,
      SLACK_BOT_TOKEN: 'xoxb-start-test',
      SLACK_SIGNING_SECRET: 'test-signing-secret',
      SLACK_API_URL: slack.url,
      INTERCOM_ACCESS_TOKEN: 'dG9rOnBhcmxleS10ZXN0LXRva2Vu',
      INTERCOM_CLIENT_SECRET: 'test-intercom-client-secret',
      INTERCOM_API_URL: intercom.url,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_WHATSAPP_FROM: BOT_NUMBER,
      TWILIO_API_URL: twilio.url,
    };
    parley = await startParley(['serve'], env);
    base = parley.url!;
  });
  afterAll(async () => {
    sampling = false;
    await sampler?.catch(() => undefined);
    await parley.stop();
    await Promise.all([slack.close(), intercom.close(), twilio.close(), ai.close()]);
  });

  const readiness = async () => {
    const res = await fetch(`${base}/readyz`);
    return { status: res.status, body: (await res.json()) as Readiness };
  };
  const slackReplies = (text: string) => slack.callsTo('chat.postMessage').filter((c) => c.args.text === text);
  const intercomReplies = (conversation: string) => intercom.callsTo('reply').filter((c) => c.conversationId === conversation);

  it('serves throughout, takes the webhooks, and answers each exactly once when the APIs are back', async () => {
    const failing = await until(async () => {
      const r = await readiness();
      const { slack: s, intercom: i, whatsapp: w, web } = r.body.adapters;
      return s?.startsWith('failed: ') && i?.startsWith('failed: ') && w === 'ready' && web === 'ready' ? r : undefined;
    }, 'Slack and Intercom to report a failed start, WhatsApp and the web chat to be ready', 10_000);
    // One platform's outage does not take the process out of the load balancer.
    expect(failing.status).toBe(200);
    expect(failing.body.checks).toEqual({ store: 'ok', queue: 'ok' });
    expect(failing.body.adapters.slack).toContain('500');
    // An outage is not the token's fault: the fix says it passes, not to check INTERCOM_ACCESS_TOKEN.
    expect(failing.body.adapters.intercom).toContain('Intercom answered 503: parley tries again');
    expect(failing.body.adapters.intercom).not.toContain('check INTERCOM_ACCESS_TOKEN');
    // From here to the end /healthz is probed, as a load balancer would. (Not the first instant after
    // listening, while the process is still warming up: under tsx that alone can take 100 ms.)
    sampler = (async () => {
      while (sampling) {
        const started = performance.now();
        const res = await fetch(`${base}/healthz`);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
        healthMs.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    // Signed webhooks are verified, queued and acknowledged while their adapters are starting.
    const mention = appMention({ text: 'sent while Slack is down' });
    expect((await postSlack(`${base}/slack/events`, mention)).status).toBe(200);
    const customer = conversationId();
    expect((await postIntercom(`${base}/intercom/webhook`, userCreated({ conversation: customer, body: '<p>sent while Intercom is down</p>' }))).status).toBe(200);
    // A teammate's reply cannot be told from the bot's own until the bot's admin is known: it is kept, not refused.
    const takenOver = conversationId();
    expect((await postIntercom(`${base}/intercom/webhook`, adminReplied({ conversation: takenOver, adminId: TEAMMATE }))).status).toBe(200);
    expect((await postIntercom(`${base}/intercom/webhook`, userCreated({ conversation: takenOver, body: '<p>still there?</p>' }))).status).toBe(200);
    const ownReply = conversationId();
    expect((await postIntercom(`${base}/intercom/webhook`, adminReplied({ conversation: ownReply, adminId: intercom.adminId }))).status).toBe(200);
    expect((await postIntercom(`${base}/intercom/webhook`, userCreated({ conversation: ownReply, body: '<p>and me?</p>' }))).status).toBe(200);
    // A slash command needs the developer's Bolt listeners: its sender is told to try again.
    const command = await postSlack(`${base}/slack/events`, slashCommand({ command: '/weather', text: 'Lisbon' }));
    expect(command.status).toBe(200);
    expect(await command.text()).toContain('starting up');

    // The other platforms are not affected.
    const whatsapp = await postTwilio(`${base}/twilio/whatsapp`, whatsappMessage({ Body: 'hello from WhatsApp' }));
    expect(whatsapp.status).toBe(200);
    await until(() => twilio.bodies().includes('echo: hello from WhatsApp'), 'the WhatsApp answer');
    const web = await fetch(`${base}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'web-1', text: 'hello from the web' }) });
    expect(web.status).toBe(202);
    await until(async () => {
      const res = await fetch(`${base}/web/conversations/web-1`);
      const { messages } = (await res.json()) as { messages: { role: string; text: string }[] };
      return messages.some((m) => m.role === 'assistant' && m.text === 'echo: hello from the web');
    }, 'the web chat answer');
    // Nothing was posted to the platforms that are down.
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(intercom.callsTo('reply')).toHaveLength(0);

    slackDown = false;
    intercomDown = false;
    await until(async () => {
      const r = await readiness();
      return r.body.adapters.slack === 'ready' && r.body.adapters.intercom === 'ready';
    }, 'both adapters to start once their APIs answer', 20_000);

    await until(() => slackReplies('echo: sent while Slack is down').length > 0, 'the Slack answer', 15_000);
    await until(() => intercomReplies(customer).length > 0 && intercomReplies(ownReply).length > 0, 'the Intercom answers', 15_000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // room for a duplicate to show up
    expect(slackReplies('echo: sent while Slack is down')).toHaveLength(1);
    expect(slackReplies('echo: sent while Slack is down')[0]!.args.thread_ts).toBe(mention.event.ts);
    expect(intercomReplies(customer)).toHaveLength(1);
    expect(intercomReplies(ownReply)).toHaveLength(1);
    // The teammate took that conversation over while the bot was starting: the bot stays out of it.
    expect(intercomReplies(takenOver)).toHaveLength(0);
    expect(twilio.bodies().filter((b) => b === 'echo: hello from WhatsApp')).toHaveLength(1);

    sampling = false;
    await sampler;
    expect(healthMs.length).toBeGreaterThan(20);
    // Every probe was answered, and none waited on the platforms' outage (auth.test is retried for
    // minutes): the bound is loose on purpose, since a loaded CI machine delays any request. The
    // 100 ms figure is measured where speed belongs, in the fault matrix (npm run bench:faults).
    for (const ms of healthMs) expect(ms).toBeLessThan(1000);
    // A failed start is logged once per change of state, not once per attempt.
    const warnings = parley.logs().split('\n').filter((line) => line.includes('adapter failed to start'));
    expect(warnings.filter((line) => line.includes('"platform":"slack"'))).toHaveLength(1);
  }, 60_000);
});
