/**
 * A mention added by an edit. Slack sends an edited message that mentions the app again as
 * `app_mention` (same ts, a new event_id, `edited`), whether the edit added the mention or only
 * fixed a typo in a message the bot answered already: the first is answered once (as a Bolt
 * app_mention listener would answer it), the second is not answered again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { BOT_USER_ID, USER_ID, appMention, channelMessage, messageChanged, nextEventId, nextSlackTs, postSlack, type SlackEventEnvelope } from '../helpers/slack-events.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';

const quiet = (ms = 400) => new Promise((resolve) => setTimeout(resolve, ms));

/** The app_mention Slack sends when the message at `ts` is edited to `text` (which mentions the bot). */
function editedMention(text: string, ts: string, options: { threadTs?: string; editedTs?: string } = {}): SlackEventEnvelope {
  const mention = appMention({ text, ts, eventId: nextEventId(), ...(options.threadTs ? { threadTs: options.threadTs } : {}) });
  return { ...mention, event: { ...mention.event, edited: { user: USER_ID, ts: options.editedTs ?? nextSlackTs() } } };
}

describe('Slack: a mention added by an edit', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    server = await startSlackBot(slack, ai);
  });
  afterAll(async () => {
    await server.close();
    await slack.close();
    await ai.close();
  });
  afterEach(() => slack.reset());

  const posts = () => slack.callsTo('chat.postMessage').map((p) => [p.args.text, p.args.thread_ts]);

  it('answers a channel message the user edits to tag the bot, once, in its thread; later edits, and one a day late, are not answered', async () => {
    const plain = channelMessage({ text: 'what is 2+2' });
    const ts = plain.event.ts!;
    await postSlack(server.url, plain);
    await postSlack(server.url, messageChanged({ text: `<@${BOT_USER_ID}> what is 2+2`, previousText: 'what is 2+2', ts }));
    await postSlack(server.url, editedMention('what is 2+2', ts));
    await until(() => posts()[0], 'a reply');
    // A typo fixed later: Slack sends app_mention again.
    await postSlack(server.url, editedMention('what is 2 + 2', ts));
    // A message tagged by an edit two days after it was sent (its thread's marker could be gone by then).
    const sent = Math.floor(Date.now() / 1000) - 3 * 24 * 60 * 60;
    await postSlack(server.url, editedMention('old news', `${sent}.000100`, { editedTs: `${sent + 2 * 24 * 60 * 60}.000200` }));
    await quiet();
    expect(posts()).toEqual([['echo: what is 2+2', ts]]);
  });

  it('answers a reply edited to tag the bot in a thread it was not in; a follow-up there edited to tag it is not answered again', async () => {
    const threadTs = nextSlackTs();
    const reply = channelMessage({ text: 'thoughts?', threadTs });
    await postSlack(server.url, reply);
    await postSlack(server.url, editedMention('thoughts?', reply.event.ts!, { threadTs }));
    await until(() => posts()[0], 'the edited reply answered');
    const followUp = channelMessage({ text: 'and then?', threadTs });
    await postSlack(server.url, followUp);
    await until(() => posts()[1], 'the follow-up answered');
    await postSlack(server.url, editedMention('and then?', followUp.event.ts!, { threadTs }));
    await quiet();
    expect(posts()).toEqual([['echo: thoughts?', threadTs], ['echo: and then?', threadTs]]);
  });

  it('answers two edits of one message delivered at once only once', async () => {
    const plain = channelMessage({ text: 'hello?' });
    const ts = plain.event.ts!;
    await postSlack(server.url, plain);
    await Promise.all([postSlack(server.url, editedMention('hello?', ts)), postSlack(server.url, editedMention('hello??', ts))]);
    await until(() => posts()[0], 'a reply');
    await quiet();
    expect(posts()).toHaveLength(1);
  });
});
