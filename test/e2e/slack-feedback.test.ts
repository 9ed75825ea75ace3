/**
 * Feedback on answers in Slack, end to end: a real bot server with the Slack adapter, Slack's Web
 * API and the AI faked over HTTP. The answer's last message carries Slack's feedback buttons; a
 * click arrives as a signed block_actions payload (built here as Slack documents it, from the
 * buttons the bot posted); a 👎 opens a modal whose submission stores the reason.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../fakes/slack-api.js';
import { type SlackEventEnvelope, BOT_USER_ID, CHANNEL_ID, DM_CHANNEL_ID, TEAM_ID, USER_ID, appMention, blockActions, nextSlackTs, directMessage, interactionForm, postSlack, viewSubmission } from '../helpers/slack-events.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';
import type { ConversationEntry } from '../../src/index.js';

interface FeedbackButtons {
  type: 'feedback_buttons';
  action_id: string;
  positive_button: { text: { type: string; text: string }; value: string };
  negative_button: { text: { type: string; text: string }; value: string };
}
interface Block {
  type: string;
  block_id?: string;
  text?: { type: string; text: string };
  elements?: FeedbackButtons[];
}

const posts = (slack: FakeSlack) => slack.callsTo('chat.postMessage');

/** The feedback buttons a posted message carries, if any. */
function buttonsOf(blocks: unknown): { block: Block; buttons: FeedbackButtons } | undefined {
  const block = (blocks as Block[] | undefined)?.find((b) => b.type === 'context_actions');
  const buttons = block?.elements?.find((e) => e.type === 'feedback_buttons');
  return block && buttons ? { block, buttons } : undefined;
}

/** The block_actions payload Slack sends when `user` clicks 👍 or 👎 on the bot's message `post` (answered as `ts`). */
function click(post: SlackCall, ts: string, rating: 'good' | 'bad', user = USER_ID): Record<string, unknown> {
  const { block, buttons } = buttonsOf(post.args.blocks)!;
  const button = rating === 'good' ? buttons.positive_button : buttons.negative_button;
  const channel = String(post.args.channel);
  const thread = typeof post.args.thread_ts === 'string' ? { thread_ts: post.args.thread_ts } : {};
  return {
    ...blockActions({ user, channel }),
    container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false, ...thread },
    channel: { id: channel, name: channel.startsWith('D') ? 'directmessage' : 'general' },
    message: { type: 'message', user: BOT_USER_ID, ts, text: post.args.text, blocks: post.args.blocks, ...thread },
    actions: [{ type: 'feedback_buttons', action_id: buttons.action_id, block_id: block.block_id, text: button.text, value: button.value, action_ts: `${Date.now() / 1000}` }],
  };
}

/** The value of parley_feedback_total for a rating on Slack. */
async function counted(base: string, rating: 'good' | 'bad'): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(new RegExp(`parley_feedback_total\\{platform="slack",rating="${rating}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

describe('Slack feedback buttons on answers (real server; Slack and the AI faked over HTTP)', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  /** What a developer's own listener for the same action saw: Bolt still runs it. */
  const seenByDeveloper: string[] = [];
  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    server = await startSlackBot(slack, ai, {}, (app) => {
      app.action('parley_feedback', async ({ action }) => void seenByDeveloper.push(String((action as { value?: string }).value)));
    });
  });
  afterAll(async () => {
    await server.close();
    await slack.close();
    await ai.close();
  });
  afterEach(() => slack.reset());

  async function answered(event: SlackEventEnvelope): Promise<{ post: SlackCall; entry: ConversationEntry; conversation: string }> {
    expect((await postSlack(server.url, event)).status).toBe(200);
    const post = await until(() => posts(slack)[0], 'the answer');
    const conversation = `${TEAM_ID}:${event.event.channel}:${typeof post.args.thread_ts === 'string' ? post.args.thread_ts : ''}`;
    const [entry] = await until(async () => {
      const entries = await server.bot.conversationLog.list(conversation);
      return entries.length ? entries : undefined;
    }, 'the exchange in the conversation log');
    return { post, entry: entry!, conversation };
  }

  it("puts Slack's feedback buttons, naming the exchange and its conversation, on the answer", async () => {
    const { post, entry, conversation } = await answered(appMention({ text: 'what is parley?' }));
    expect(entry.id).toMatch(/^slack\./);
    const blocks = post.args.blocks as Block[];
    expect(blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: 'echo: what is parley?' } });
    expect(blocks.at(-1)).toEqual({
      type: 'context_actions',
      block_id: `parley_feedback:${entry.id}:${conversation}`,
      elements: [
        {
          type: 'feedback_buttons',
          action_id: 'parley_feedback',
          positive_button: { text: { type: 'plain_text', text: '👍' }, accessibility_label: 'Good answer', value: `good:${entry.id}` },
          negative_button: { text: { type: 'plain_text', text: '👎' }, accessibility_label: 'Bad answer', value: `bad:${entry.id}` },
        },
      ],
    });
    expect(post.args.text).toBe('echo: what is parley?'); // the notification's text
  });

  it('a 👍 click (signed block_actions) is stored with the exchange and counted', async () => {
    const { post, entry, conversation } = await answered(appMention({ text: 'how are ratings stored?' }));
    const res = await postSlack(server.url, interactionForm(click(post, nextSlackTs(), 'good')));
    expect(res.status).toBe(200);
    const [rated] = await until(async () => {
      const entries = await server.bot.conversationLog.list(conversation);
      return entries[0]?.feedback ? entries : undefined;
    }, 'the rating');
    expect(rated).toMatchObject({ id: entry.id, feedback: { rating: 'good', user: USER_ID, at: expect.any(String) } });
    expect(rated!.feedback).not.toHaveProperty('reason');
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    expect(metrics).toContain('parley_feedback_total{platform="slack",rating="good"} 1');
    expect(slack.callsTo('views.open')).toHaveLength(0);
    expect(seenByDeveloper).toContain(`good:${entry.id}`);

    // a forged signature is refused before anything is stored
    const forged = await postSlack(server.url, interactionForm(click(post, nextSlackTs(), 'bad')), { signature: 'v0=0000' });
    expect(forged.status).toBe(401);
    expect((await server.bot.conversationLog.list(conversation))[0]?.feedback?.rating).toBe('good');
  });

  it('a 👎 opens a modal for the reason; its submission stores the reason with the rating, counted once', async () => {
    slack.on('views.open', (call) => ({ body: { ok: true, view: { id: 'V0REASON', callback_id: (call.args.view as { callback_id?: string }).callback_id } } }));
    const badBefore = await counted(server.base, 'bad');
    const { post, entry, conversation } = await answered(directMessage({ text: 'tell me something wrong' }));
    expect(post.args.channel).toBe(DM_CHANNEL_ID);
    const action = click(post, nextSlackTs(), 'bad');
    expect((await postSlack(server.url, interactionForm(action))).status).toBe(200);

    const open = await until(() => slack.callsTo('views.open')[0], 'views.open');
    expect(open.args.trigger_id).toBe(action.trigger_id);
    const view = open.args.view as { type: string; callback_id: string; private_metadata: string; blocks: { type: string; block_id: string; element: { action_id: string } }[] };
    expect(view).toMatchObject({ type: 'modal', callback_id: 'parley_feedback_reason', submit: { type: 'plain_text' } });
    expect(view.blocks[0]).toMatchObject({ type: 'input', block_id: 'reason', element: { type: 'plain_text_input', action_id: 'reason', multiline: true } });
    await until(async () => (await server.bot.conversationLog.list(conversation))[0]?.feedback, 'the 👎');

    const submission = viewSubmission({ callbackId: 'parley_feedback_reason' });
    const submitted = {
      ...submission,
      view: { ...(submission.view as object), private_metadata: view.private_metadata, state: { values: { reason: { reason: { type: 'plain_text_input', value: '  It made things up.  ' } } } } },
    };
    const res = await postSlack(server.url, interactionForm(submitted));
    expect(res.status).toBe(200); // acknowledged with no body: Slack closes the modal
    const [rated] = await until(async () => {
      const entries = await server.bot.conversationLog.list(conversation);
      return entries[0]?.feedback?.reason ? entries : undefined;
    }, 'the reason');
    expect(rated).toMatchObject({ id: entry.id, feedback: { rating: 'bad', reason: 'It made things up.', user: USER_ID } });
    expect(await counted(server.base, 'bad')).toBe(badBefore + 1);
  });

  it('a 👍 and a 👎 with its reason on a top-level DM answer that has a thread (Slack then gives it thread_ts = its ts) are stored and counted', async () => {
    slack.on('views.open', () => ({ body: { ok: true, view: { id: 'V0REASON' } } }));
    const goodBefore = await counted(server.base, 'good');
    const badBefore = await counted(server.base, 'bad');
    const { post, entry, conversation } = await answered(directMessage({ text: 'a DM answer someone replies to', channel: 'D0THREADED' }));
    expect(conversation).toBe(`${TEAM_ID}:D0THREADED:`);
    /** The click as Slack sends it once the answer has replies: the message is its thread's parent. */
    const onThreadParent = (rating: 'good' | 'bad', blockId?: string) => {
      const ts = nextSlackTs();
      const action = click(post, ts, rating);
      (action.message as Record<string, unknown>).thread_ts = ts;
      (action.container as Record<string, unknown>).thread_ts = ts;
      if (blockId) (action.actions as { block_id: string }[])[0]!.block_id = blockId;
      return action;
    };
    const rating = async () => (await server.bot.conversationLog.list(conversation))[0]?.feedback;

    expect((await postSlack(server.url, interactionForm(onThreadParent('good')))).status).toBe(200);
    expect(await until(async () => (await rating())?.rating === 'good' || undefined, 'the 👍')).toBe(true);
    expect(await counted(server.base, 'good')).toBe(goodBefore + 1);

    // a button posted before the block_id named the conversation is still understood
    const old = onThreadParent('bad', `parley_feedback:${entry.id}`);
    expect((await postSlack(server.url, interactionForm(old))).status).toBe(200);
    const open = await until(() => slack.callsTo('views.open')[0], 'views.open');
    await until(async () => (await rating())?.rating === 'bad' || undefined, 'the 👎');
    const submission = viewSubmission({ callbackId: 'parley_feedback_reason' });
    const submitted = {
      ...submission,
      view: { ...(submission.view as object), private_metadata: (open.args.view as { private_metadata: string }).private_metadata, state: { values: { reason: { reason: { type: 'plain_text_input', value: 'Off topic.' } } } } },
    };
    expect((await postSlack(server.url, interactionForm(submitted))).status).toBe(200);
    await until(async () => (await rating())?.reason, 'the reason');
    expect(await rating()).toMatchObject({ rating: 'bad', reason: 'Off topic.', user: USER_ID });
    expect(await counted(server.base, 'bad')).toBe(badBefore + 1);
  });

  it('a long answer carries the buttons on its last part only', async () => {
    const long = `${'A long question about parley. '.repeat(150)}`.trim();
    await postSlack(server.url, appMention({ text: long }));
    const parts = await until(() => (posts(slack).length >= 2 ? posts(slack) : undefined), 'the answer in parts');
    expect(parts.slice(0, -1).every((p) => p.args.blocks === undefined)).toBe(true);
    const last = parts.at(-1)!.args.blocks as Block[];
    expect(buttonsOf(last)).toBeDefined();
    // the sections hold the part's text (a section takes at most 3000 characters)
    const sections = last.filter((b) => b.type === 'section');
    expect(sections.every((s) => s.text!.text.length <= 3000)).toBe(true);
    expect(sections.map((s) => s.text!.text).join('').replace(/\s/g, '')).toBe(String(parts.at(-1)!.args.text).replace(/\s/g, ''));
  });

  it('a click on an exchange the log does not hold stores and counts nothing', async () => {
    const { post } = await answered(appMention({ text: 'a fine answer' }));
    const forgedExchange = click(post, nextSlackTs(), 'good');
    (forgedExchange.actions as { value: string }[])[0]!.value = 'good:slack.NoSuchEvent';
    const before = await counted(server.base, 'good');
    expect((await postSlack(server.url, interactionForm(forgedExchange))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await counted(server.base, 'good')).toBe(before);
  });
});

describe('Slack feedback buttons on a streamed answer', () => {
  it('chat.stopStream appends the feedback buttons', async () => {
    const slack = await startFakeSlack();
    const ai = await startFakeOpenAi();
    const server = await startSlackBot(slack, ai, { SLACK_STREAMING: 'on' });
    try {
      const event = appMention({ text: 'stream and rate' });
      await postSlack(server.url, event);
      const stop = await until(() => slack.callsTo('chat.stopStream')[0], 'the stream to stop');
      const buttons = buttonsOf(stop.args.blocks);
      expect(buttons?.buttons.positive_button.value).toMatch(/^good:slack\./);
      const conversation = `${TEAM_ID}:${CHANNEL_ID}:${event.event.ts}`;
      const [entry] = await until(async () => {
        const entries = await server.bot.conversationLog.list(conversation);
        return entries.length ? entries : undefined;
      }, 'the exchange');
      expect(buttons?.buttons.negative_button.value).toBe(`bad:${entry!.id}`);
    } finally {
      await server.close();
      await slack.close();
      await ai.close();
    }
  });
});
