/**
 * The Slack ack fast path (adapters/slack/fast-path.ts), end to end on a real server with Slack and
 * the AI faked over HTTP: events parley answers are queued without Bolt's listener chain; a
 * developer's listeners and parley's Assistant still get their events, after the ack; nothing is
 * taken twice.
 */
import { App, Assistant } from '@slack/bolt';
import pino from 'pino';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ParleyReceiver, slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { createBot, loadConfig } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { metricValue } from '../helpers/ops.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { BOT_USER_ID, CHANNEL_ID, DM_CHANNEL_ID, appMention, assistantThreadStarted, channelMessage, directMessage, nextSlackTs, postSlack, slashCommand } from '../helpers/slack-events.js';
import { installation } from '../helpers/slack-installations.js';
import { testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

type SlackApp = ReturnType<typeof slackAdapter>['app'];

const posts = (slack: FakeSlack) => slack.callsTo('chat.postMessage');
const quiet = (ms = 250) => new Promise((resolve) => setTimeout(resolve, ms));

/** Count the bodies Bolt is given (App#processEvent), whichever path gives them. */
function spyOnBolt(app: SlackApp): Record<string, unknown>[] {
  const bodies: Record<string, unknown>[] = [];
  const processEvent = app.processEvent.bind(app);
  app.processEvent = (event) => (bodies.push(event.body), processEvent(event));
  return bodies;
}

const eventTypes = (bodies: Record<string, unknown>[]) => bodies.map((b) => (b.event as { type?: string } | undefined)?.type ?? String(b.command ?? b.type));

/** A bot on a fake Slack and AI for one describe block, with Bolt spied on; `setup` registers listeners on its App. */
function useSlackBot(setup?: (app: SlackApp) => void): { slack: FakeSlack; ai: FakeOpenAi; server: SlackBot; bolt: Record<string, unknown>[]; app: SlackApp } {
  const world = {} as ReturnType<typeof useSlackBot>;
  beforeAll(async () => {
    world.slack = await startFakeSlack();
    world.ai = await startFakeOpenAi();
    world.server = await startSlackBot(world.slack, world.ai, {}, (app) => {
      world.app = app;
      world.bolt = spyOnBolt(app);
      setup?.(app);
    });
  });
  afterAll(async () => {
    await world.server.close();
    await world.slack.close();
    await world.ai.close();
  });
  afterEach(() => {
    world.slack.reset();
    world.bolt.length = 0;
  });
  return world;
}

describe('Slack fast path: no developer listener', () => {
  const world = useSlackBot();

  it('queues a mention, a DM and a thread follow-up without Bolt, and answers each once', async () => {
    const { slack, server, bolt } = world;
    const mention = appMention({ text: 'first question' });
    expect((await postSlack(server.url, mention)).status).toBe(200);
    await until(() => posts(slack)[0], 'the mention answered');
    expect((await postSlack(server.url, directMessage({ text: 'a private question' }))).status).toBe(200);
    expect((await postSlack(server.url, channelMessage({ text: 'and a follow-up', threadTs: mention.event.ts }))).status).toBe(200);
    await until(() => (posts(slack).length === 3 ? true : undefined), 'three answers');
    await quiet();
    expect(posts(slack).map((p) => [p.args.channel, p.args.thread_ts, p.args.text])).toEqual([
      [CHANNEL_ID, mention.event.ts, 'echo: first question'],
      [DM_CHANNEL_ID, undefined, 'echo: a private question'],
      [CHANNEL_ID, mention.event.ts, 'echo: and a follow-up'],
    ]);
    expect(bolt).toEqual([]);
  });

  it("sets an assistant thread's suggested prompts and its title after the ack, without Bolt", async () => {
    const { slack, server, bolt } = world;
    const started = assistantThreadStarted({});
    expect((await postSlack(server.url, started)).status).toBe(200);
    await until(() => slack.callsTo('assistant.threads.setSuggestedPrompts')[0], 'suggested prompts');
    const threadTs = (started.event.assistant_thread as { thread_ts: string }).thread_ts;
    expect((await postSlack(server.url, directMessage({ text: 'name this thread after me', threadTs }))).status).toBe(200);
    const [title] = await until(() => (slack.callsTo('assistant.threads.setTitle').length ? slack.callsTo('assistant.threads.setTitle') : undefined), 'the title');
    expect(title!.args).toMatchObject({ channel_id: DM_CHANNEL_ID, thread_ts: threadTs, title: 'name this thread after me' });
    const [answer] = await until(() => (posts(slack).length ? posts(slack) : undefined), 'the answer');
    expect(answer!.args).toMatchObject({ channel: DM_CHANNEL_ID, thread_ts: threadTs, text: 'echo: name this thread after me' });
    await quiet();
    expect(posts(slack)).toHaveLength(1);
    expect(eventTypes(bolt)).toEqual([]);
  });

  it('titles an assistant thread once, with its first question; a threaded DM outside an assistant thread gets no title', async () => {
    const { slack, server } = world;
    const started = assistantThreadStarted({});
    const threadTs = (started.event.assistant_thread as { thread_ts: string }).thread_ts;
    await postSlack(server.url, started);
    await postSlack(server.url, directMessage({ text: 'How do I reset my password?', threadTs }));
    await until(() => (posts(slack).length === 1 ? true : undefined), 'the first answer');
    await postSlack(server.url, directMessage({ text: 'thanks!', threadTs }));
    await postSlack(server.url, directMessage({ text: 'a reply in a plain DM thread', threadTs: nextSlackTs() }));
    await until(() => (posts(slack).length === 3 ? true : undefined), 'three answers');
    await quiet();
    expect(slack.callsTo('assistant.threads.setTitle').map((c) => [c.args.thread_ts, c.args.title])).toEqual([[threadTs, 'How do I reset my password?']]);
  });

  it("leaves the bot's answers alone when an assistant thread's context changes", async () => {
    const { slack, server } = world;
    const started = assistantThreadStarted({});
    const threadTs = (started.event.assistant_thread as { thread_ts: string }).thread_ts;
    await postSlack(server.url, started);
    await postSlack(server.url, directMessage({ text: 'first', threadTs }));
    await until(() => posts(slack)[0], 'the answer');
    expect((await postSlack(server.url, { ...started, event_id: `Ev0CTX${Date.now()}`, event: { ...started.event, type: 'assistant_thread_context_changed' } })).status).toBe(200);
    await quiet();
    expect(slack.callsTo('chat.update')).toEqual([]);
    expect(slack.callsTo('conversations.replies')).toEqual([]);
  });
});

describe("Slack fast path next to a developer's listeners on the same App", () => {
  const seen: { type: string; retryNum?: number; text?: string }[] = [];
  /** The n-th app_mention listener call waits for its gate, so an ack that waited for it would never come. */
  const gates = new Map<number, { opened: Promise<void>; open(): void }>();
  const gate = (n: number) => {
    let entry = gates.get(n);
    if (!entry) {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      gates.set(n, (entry = { opened, open }));
    }
    return entry;
  };
  let mentions = 0;
  const world = useSlackBot((app) => {
    app.event('app_mention', async ({ event, context }) => {
      await gate(mentions++).opened;
      seen.push({ type: 'app_mention', retryNum: context.retryNum, text: event.text });
    });
    app.message(async ({ message }) => void seen.push({ type: 'message', text: 'text' in message ? message.text : undefined }));
    app.event(/^reaction_/, async ({ event }) => void seen.push({ type: event.type }));
    app.event('assistant_thread_started', async () => void seen.push({ type: 'assistant_thread_started' }));
  });
  afterEach(() => void (seen.length = 0));

  it("acknowledges a mention before the developer's app_mention listener finishes; the listener runs and parley answers once", async () => {
    const { slack, server, bolt } = world;
    const received = () => metricValue(server.bot.metrics, 'parley_messages_received_total', { platform: 'slack' });
    const before = (await received()) ?? 0;
    const event = appMention({ text: 'who answers?' });
    expect((await postSlack(server.url, event)).status).toBe(200); // the listener is still waiting
    await until(() => (bolt.length === 1 ? true : undefined), 'the event handed to Bolt');
    gate(0).open();
    await until(() => seen[0], 'the listener to run');
    expect(seen).toEqual([{ type: 'app_mention', retryNum: undefined, text: event.event.text }]);
    await until(() => posts(slack)[0], 'the answer');
    // A redelivery: the listener sees it (with Bolt's retryNum), parley drops it as a duplicate.
    expect((await postSlack(server.url, event, { retryNum: 1 })).status).toBe(200);
    await until(() => (bolt.length === 2 ? true : undefined), 'the redelivery handed to Bolt');
    gate(1).open();
    await until(() => seen[1], 'the listener to run again');
    expect(seen[1]).toMatchObject({ type: 'app_mention', retryNum: 1 });
    await quiet();
    expect(posts(slack)).toHaveLength(1);
    expect((await received()) ?? 0).toBe(before + 1);
    expect(await metricValue(server.bot.metrics, 'parley_duplicates_dropped_total', { platform: 'slack' })).toBe(1);
  });

  it("runs the developer's message listener for a DM parley answers, and for a channel message it does not", async () => {
    const { slack, server } = world;
    await postSlack(server.url, directMessage({ text: 'dm for both' }));
    await postSlack(server.url, channelMessage({ text: 'just chatting' }));
    await until(() => (seen.length === 2 ? true : undefined), 'both messages seen by the listener');
    expect(seen.map((s) => s.text).sort()).toEqual(['dm for both', 'just chatting']);
    const [answer] = await until(() => (posts(slack).length ? posts(slack) : undefined), 'the DM answered');
    expect(answer!.args.text).toBe('echo: dm for both');
    await quiet();
    expect(posts(slack)).toHaveLength(1);
  });

  it('gives events of types parley does not answer to Bolt as before', async () => {
    const { slack, server } = world;
    const ts = nextSlackTs();
    const reaction = {
      token: 'legacy-verification-token',
      team_id: 'T0PARLEY',
      api_app_id: 'A0PARLEY',
      type: 'event_callback',
      event_id: `Ev0REACT${Date.now()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ enterprise_id: null, team_id: 'T0PARLEY', user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
      event: { type: 'reaction_added', user: 'U0ALICE', reaction: 'tada', item: { type: 'message', channel: CHANNEL_ID, ts }, item_user: 'UBOT', event_ts: ts },
    };
    expect((await postSlack(server.url, reaction)).status).toBe(200);
    await until(() => seen[0], 'the reaction listener');
    expect(seen).toEqual([{ type: 'reaction_added' }]);
    await quiet();
    expect(posts(slack)).toHaveLength(0);
  });

  it("runs the developer's listeners for an assistant thread, then a later app.assistant; parley still sets prompts and the title, and answers once", async () => {
    const { slack, server, app } = world;
    const thread = async (text: string) => {
      const started = assistantThreadStarted({});
      const threadTs = (started.event.assistant_thread as { thread_ts: string }).thread_ts;
      expect((await postSlack(server.url, started)).status).toBe(200);
      expect((await postSlack(server.url, directMessage({ text, threadTs }))).status).toBe(200);
      await until(() => slack.callsTo('assistant.threads.setSuggestedPrompts').find((c) => c.args.thread_ts === threadTs), 'suggested prompts');
      const title = await until(() => slack.callsTo('assistant.threads.setTitle').find((c) => c.args.thread_ts === threadTs), 'the title');
      expect(title.args.title).toBe(text);
      const answer = await until(() => posts(slack).find((p) => p.args.thread_ts === threadTs), 'the answer');
      expect(answer.args.text).toBe(`echo: ${text}`);
    };
    await thread('a question in the thread');
    await until(() => (seen.length === 2 ? true : undefined), 'the listeners to run');
    expect(seen).toEqual([{ type: 'assistant_thread_started' }, { type: 'message', text: 'a question in the thread' }]);
    // The developer's own Assistant, registered later: it takes the thread's events (and, as in Bolt, they end there).
    const assistant: string[] = [];
    app.assistant(
      new Assistant({
        threadStarted: async () => void assistant.push('threadStarted'),
        userMessage: async ({ message }) => void assistant.push(`userMessage: ${'text' in message ? message.text : ''}`),
      }),
    );
    await thread('and one for the Assistant');
    await until(() => (assistant.length === 2 ? true : undefined), "the developer's Assistant to run");
    expect(assistant).toEqual(['threadStarted', 'userMessage: and one for the Assistant']);
    await quiet();
    expect(posts(slack)).toHaveLength(2);
  });
});

describe("Slack fast path: a developer's listener that fails after the ack", () => {
  it('is logged, and neither the answer Slack got nor parley\'s answer changes', async () => {
    const slack = await startFakeSlack();
    const ai = await startFakeOpenAi();
    const lines: { level: number; msg: string; event?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
    const server = await startSlackBot(
      slack,
      ai,
      {},
      (app) => {
        app.event('app_mention', async () => {
          throw new Error('the listener broke');
        });
      },
      { bot: { logger } },
    );
    try {
      expect((await postSlack(server.url, appMention({ text: 'still answered?' }))).status).toBe(200);
      const [post] = await until(() => (posts(slack).length ? posts(slack) : undefined), 'the answer');
      expect(post!.args.text).toBe('echo: still answered?');
      const failed = await until(() => lines.find((l) => l.msg === 'a Bolt listener failed (after the ack)'), 'the failure logged');
      expect(failed).toMatchObject({ level: 50, event: 'app_mention' });
      await quiet();
      expect(lines.filter((l) => l.level >= 50)).toHaveLength(1); // once: not by Bolt's default error handler too
    } finally {
      await server.close();
      await slack.close();
      await ai.close();
    }
  });
});

describe('Slack fast path with an App the developer made (listeners registered before parley saw it)', () => {
  it('hands every event to Bolt when the App already has a global middleware; only events when it had only a command', async () => {
    const slack = await startFakeSlack();
    const ai = await startFakeOpenAi();
    const env = { ...testEnv, OPENAI_BASE_URL: ai.url, SLACK_BOT_TOKEN: 'xoxb-dev', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url };
    const start = async (register: (app: App) => void) => {
      const app = new App({ token: 'xoxb-dev', receiver: new ParleyReceiver(), deferInitialization: true, clientOptions: { slackApiUrl: slack.url } });
      register(app);
      const bot = createBot({ config: loadConfig(env), adapters: [slackAdapter({ ...slackConfigFromEnv(env)!, app })] });
      const server = await bot.listen(0, '127.0.0.1');
      await bot.ready;
      return { bot, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`, bolt: spyOnBolt(app) };
    };
    const middlewareSaw: string[] = [];
    const withMiddleware = await start((app) =>
      app.use(async ({ body, next }) => {
        middlewareSaw.push((body as { event?: { type: string } }).event?.type ?? 'not an event');
        await next();
      }),
    );
    const withCommand = await start((app) => app.command('/ticket', async ({ ack }) => ack('opened')));
    try {
      for (const target of [withMiddleware, withCommand]) {
        expect((await postSlack(target.url, appMention({ text: 'hello there' }))).status).toBe(200);
        expect((await postSlack(target.url, directMessage({ text: 'hello in private' }))).status).toBe(200);
        expect((await postSlack(target.url, channelMessage({ text: 'chatter' }))).status).toBe(200);
      }
      await until(() => (middlewareSaw.length === 3 ? true : undefined), "the developer's middleware to see all three events");
      expect(middlewareSaw).toEqual(['app_mention', 'message', 'message']);
      await until(() => (posts(slack).length === 4 ? true : undefined), 'two answers from each bot');
      expect((await postSlack(withCommand.url, slashCommand({ command: '/ticket', text: 'x' }))).status).toBe(200);
      await quiet();
      expect(posts(slack)).toHaveLength(4);
      expect(eventTypes(withCommand.bolt)).toEqual(['/ticket']); // no event went through Bolt
    } finally {
      await withMiddleware.bot.close();
      await withCommand.bot.close();
      await slack.close();
      await ai.close();
    }
  });
});

describe('Slack fast path with many workspaces (OAuth)', () => {
  it("answers an installed workspace with its bot user's mentions stripped; a workspace without an installation gets a 200, no answer and no listener", async () => {
    const slack = await startFakeSlack({ clientId: '1111.2222', clientSecret: 'fake-client-secret' });
    const ai = await startFakeOpenAi();
    const key = randomBytes(32);
    const seen: string[] = [];
    let bolt: Record<string, unknown>[] = [];
    const server = await startSlackBot(
      slack,
      ai,
      { SLACK_BOT_TOKEN: '', SLACK_CLIENT_ID: '1111.2222', SLACK_CLIENT_SECRET: 'fake-client-secret', SLACK_STATE_SECRET: 'state-secret-for-tests-0123456789', SLACK_INSTALLATION_KEY: key.toString('base64'), PUBLIC_URL: 'https://bot.example.com' },
      (app) => {
        bolt = spyOnBolt(app);
        app.event('app_mention', async ({ event }) => void seen.push(String(event.text)));
      },
    );
    try {
      // The installation's bot user, not the one the envelope names, is the one mentioned.
      await new ParleyInstallationStore({ store: server.bot.store, keys: [key] }).storeInstallation(installation('T0HERE', 'xoxb-here-token'));
      const here = appMention({ team: 'T0HERE', channel: 'C0HERE', text: '<@U0BOT> hello from here', botUserId: 'U0BOT' });
      here.authorizations[0]!.user_id = BOT_USER_ID;
      const gone = appMention({ team: 'T0GONE', channel: 'C0GONE', text: 'hello from nowhere' });
      expect((await postSlack(server.url, gone)).status).toBe(200);
      expect((await postSlack(server.url, here)).status).toBe(200);
      const [post] = await until(() => (posts(slack).length ? posts(slack) : undefined), 'the answer');
      expect(post!.token).toBe('xoxb-here-token');
      expect(post!.args).toMatchObject({ channel: 'C0HERE', text: 'echo: hello from here' });
      await until(() => seen[0], 'the listener');
      await quiet();
      expect(seen).toEqual(['<@U0BOT> hello from here']);
      expect(eventTypes(bolt)).toEqual(['app_mention']);
      expect(posts(slack)).toHaveLength(1);
    } finally {
      await server.close();
      await slack.close();
      await ai.close();
    }
  });
});
