/**
 * What the model is shown of a Slack message: Slack's markup and entities made readable (links as
 * markdown, which the reply turns back into Slack links), and an edited mention not answered again.
 */
import { describe, expect, it } from 'vitest';
import { inboundFromEvent, type EventCallback } from '../../adapters/slack/events.js';
import { readableText } from '../../adapters/slack/incoming-text.js';
import { markdownToMrkdwn } from '../../adapters/slack/mrkdwn.js';
import { appMention, BOT_USER_ID, channelMessage, directMessage, type SlackEventEnvelope } from '../helpers/slack-events.js';

const inbound = (body: unknown) => inboundFromEvent(body as EventCallback, { botUserId: BOT_USER_ID, threadFollowUps: true });
/** `envelope` with its event's fields replaced (and others added). */
const withEvent = (envelope: SlackEventEnvelope, fields: Record<string, unknown>) => ({ ...envelope, event: { ...envelope.event, ...fields } });
/** A rich_text block of one section holding `elements`, as Slack's composer writes it. */
const richText = (...elements: Record<string, unknown>[]) => [{ type: 'rich_text', block_id: 'b1', elements: [{ type: 'rich_text_section', elements }] }];

describe('Slack text as the model reads it', () => {
  it('makes mentions, channels, special mentions, links and entities readable', () => {
    expect(readableText('what does <@U0BOB> think of <#C0RANDOM|random>? <!here> <!subteam^S123|@oncall>')).toBe('what does @U0BOB think of #random? @here @oncall');
    expect(readableText('see <https://x.com/a?b=1&amp;c=2|the doc> or <https://y.org> or <mailto:a@b.co|a@b.co>')).toBe('see [the doc](https://x.com/a?b=1&c=2) or https://y.org or a@b.co');
    expect(readableText('is a &lt; b &amp;&amp; c &gt; d true?')).toBe('is a < b && c > d true?');
    expect(readableText('<@U0BOB|bob> in <#C0GEN>')).toBe('@bob in #C0GEN');
    // Text with neither markup nor entities is left as it is.
    expect(readableText('plain words, 5 > 3 & all')).toBe('plain words, 5 > 3 & all');
  });

  it('gives the model readable text, and a link written back reaches Slack as the same link, escaped once', () => {
    const message = inbound(appMention({ text: 'is a &lt; b? see <https://x.com/a?b=1&amp;c=2|the doc>' }));
    expect(message?.text).toBe('is a < b? see [the doc](https://x.com/a?b=1&c=2)');
    // A model that echoes it: Slack gets its own link, with `&` escaped once.
    expect(markdownToMrkdwn(message!.text)).toBe('is a &lt; b? see <https://x.com/a?b=1&amp;c=2|the doc>');
  });

  it('a link repeated by the model comes back as the same link, whatever its label or address holds', () => {
    for (const link of ['<https://example.com|a ] label>', '<https://example.com|see [1]>', '<https://example.com/x)y|label>', '<https://x.org|a*b*c>', '<https://x.org|[JIRA-12] Fix_it>']) {
      expect(markdownToMrkdwn(readableText(link))).toBe(link);
    }
  });

  it('names a shared file to the model without its private URL, which the model could not fetch (AI_VISION)', () => {
    const mention = appMention({ text: 'what is in this?' });
    const withFile = { ...mention, event: { ...mention.event, subtype: 'file_share', files: [{ name: 's3.png', mimetype: 'image/png', url_private: 'https://files.slack.com/files-pri/T1-F1/s3.png' }] } };
    expect(inbound(withFile)?.attachments).toEqual([{ contentType: 'image/png', name: 's3.png' }]);
  });

  it('does not answer an edited mention again (Slack sends it as a new app_mention with `edited`)', () => {
    const first = appMention({ text: 'what is 2+2', ts: '1700000000.000100' });
    expect(inbound(first)?.text).toBe('what is 2+2');
    const edit = appMention({ text: 'what is 2+3', ts: '1700000000.000100' });
    const edited = { ...edit, event: { ...edit.event, edited: { user: 'U0ALICE', ts: '1700000005.000000' } } };
    expect(inbound(edited)).toBeUndefined();
  });

  it("reads the bot's labelled mention (<@UBOT|name>) as the plain one: not shown to the model, and a channel message carrying it left to its app_mention", () => {
    expect(inbound(appMention({ text: `<@${BOT_USER_ID}|parley> what is 2+2` }))?.text).toBe('what is 2+2');
    expect(inbound(directMessage({ text: `hey <@${BOT_USER_ID}|parley>, and <@U0BOB|bob>?` }))?.text).toBe('hey , and @bob?');
    // Only the labelled mention: nothing left to answer.
    expect(inbound(appMention({ text: `<@${BOT_USER_ID}|parley>` }))).toBeUndefined();
    // Its copy as a thread message is not answered a second time as a follow-up.
    expect(inbound(channelMessage({ text: `<@${BOT_USER_ID}|parley> again`, threadTs: '1700000000.000100' }))).toBeUndefined();
    // Another user whose id starts with the bot's is not the bot.
    expect(inbound(appMention({ text: `<@${BOT_USER_ID}> ask <@${BOT_USER_ID}2|twin>` }))?.text).toBe('ask @twin');
  });

  it('reads a message with no text from its rich_text blocks (posted with blocks only), as its text would read', () => {
    const blocks = [
      ...richText(
        { type: 'user', user_id: BOT_USER_ID },
        { type: 'text', text: ' is a < b & ' },
        { type: 'text', text: 'x()', style: { code: true } },
        { type: 'text', text: '? see ' },
        { type: 'link', url: 'https://x.com/a?b=1&c=2', text: 'the doc' },
        { type: 'text', text: ' with ' },
        { type: 'user', user_id: 'U0BOB' },
        { type: 'text', text: ' in ' },
        { type: 'channel', channel_id: 'C0RANDOM' },
        { type: 'emoji', name: 'wave' },
      ),
      { type: 'rich_text', elements: [{ type: 'rich_text_list', style: 'ordered', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'one' }] }, { type: 'rich_text_section', elements: [{ type: 'text', text: 'two' }] }] }] },
      { type: 'rich_text', elements: [{ type: 'rich_text_quote', elements: [{ type: 'text', text: 'quoted' }] }, { type: 'rich_text_preformatted', elements: [{ type: 'text', text: 'if (a > b) {}' }] }] },
      { type: 'section', text: { type: 'mrkdwn', text: 'not rich text' } },
    ];
    const message = inbound(withEvent(appMention({ text: '' }), { text: '', blocks }));
    expect(message?.text).toBe('is a < b & `x()`? see [the doc](https://x.com/a?b=1&c=2) with @U0BOB in #C0RANDOM:wave:\n1. one\n2. two\n> quoted\n```\nif (a > b) {}\n```');
    expect(inbound(withEvent(directMessage({ text: '' }), { text: undefined, blocks: richText({ type: 'text', text: 'hello' }) }))?.text).toBe('hello');
    // Its copy as a thread message mentions the bot too: left to the app_mention.
    expect(inbound(withEvent(channelMessage({ text: '', threadTs: '1700000000.000100' }), { blocks: richText({ type: 'user', user_id: BOT_USER_ID }, { type: 'text', text: ' hi' }) }))).toBeUndefined();
    // Blocks shaped otherwise than documented are skipped, not thrown on.
    for (const odd of [null, 'x', {}, [null, 1, { type: 'rich_text' }, { type: 'rich_text', elements: [null, { type: 'rich_text_section', elements: 'x' }, { type: 'rich_text_list', elements: [null] }] }]]) {
      expect(inbound(withEvent(directMessage({ text: '' }), { blocks: odd }))).toBeUndefined();
    }
    // A message with text is read from its text, whatever its blocks hold.
    expect(inbound(withEvent(directMessage({ text: 'from text' }), { blocks: richText({ type: 'text', text: 'from blocks' }) }))?.text).toBe('from text');
  });
});
