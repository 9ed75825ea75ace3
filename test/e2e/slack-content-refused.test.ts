/**
 * Slack refuses a reply's content (`invalid_blocks`, `msg_too_long`), not the conversation: the
 * message is dead-lettered at once with the reason, and the user still gets the one apology (a
 * plain-text message Slack takes), where a refused conversation (`channel_not_found`) gets none.
 * Real server; Slack and the AI faked over HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../fakes/slack-api.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

describe('Slack refuses the content of a reply', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  afterEach(async () => {
    await server.close();
    await slack.close();
    await ai.close();
  });

  const textOf = (call: SlackCall) => String(call.args.text ?? '');

  it.each(['invalid_blocks', 'msg_too_long', 'channel_not_found'])('%s: one post tried, a dead letter, and an apology unless the conversation itself was refused', async (error) => {
    slack = await startFakeSlack();
    // The answer (the first post) is refused; anything after it is taken.
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { body: { ok: false, error } } : undefined));
    ai = await startFakeOpenAi(() => ({ text: 'an answer Slack will not take' }));
    server = await startSlackBot(slack, ai, { JOB_ATTEMPTS: '3' });
    await postSlack(server.url, appMention({ text: 'hello' }));
    const letters = await until(async () => ((await server.bot.queue.deadLetters()).length ? server.bot.queue.deadLetters() : undefined), 'the dead letter', 10_000);
    expect(letters.map((letter) => letter.reason)).toEqual([`slack_${error}`]);
    await new Promise((resolve) => setTimeout(resolve, 500)); // room for an apology to be posted
    const posts = slack.callsTo('chat.postMessage').map(textOf);
    expect(ai.calls).toHaveLength(1);
    if (error === 'channel_not_found') expect(posts).toEqual(['an answer Slack will not take']);
    else expect(posts).toEqual(['an answer Slack will not take', expect.stringContaining('Sorry')]);
  });

  it('a later part refused after the first was shown: no apology after the part the user already has', async () => {
    slack = await startFakeSlack();
    slack.on('chat.postMessage', (_call, n) => (n === 1 ? { body: { ok: false, error: 'invalid_blocks' } } : undefined));
    ai = await startFakeOpenAi(() => ({ text: `${'First paragraph. '.repeat(200)}\n\n${'Second paragraph. '.repeat(200)}` }));
    server = await startSlackBot(slack, ai, { JOB_ATTEMPTS: '3' });
    await postSlack(server.url, appMention({ text: 'hello' }));
    const letters = await until(async () => ((await server.bot.queue.deadLetters()).length ? server.bot.queue.deadLetters() : undefined), 'the dead letter', 10_000);
    expect(letters.map((letter) => letter.reason)).toEqual(['slack_invalid_blocks']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const posts = slack.callsTo('chat.postMessage').map(textOf);
    expect(posts).toHaveLength(2);
    expect(posts.filter((text) => text.includes('Sorry'))).toEqual([]);
  });
});
