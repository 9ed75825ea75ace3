/**
 * What the model is shown of a Slack message: Slack's markup and entities made readable (links as
 * markdown, which the reply turns back into Slack links), and an edited mention not answered again.
 */
import { describe, expect, it } from 'vitest';
import { inboundFromEvent, type EventCallback } from '../../adapters/slack/events.js';
import { readableText } from '../../adapters/slack/incoming-text.js';
import { markdownToMrkdwn } from '../../adapters/slack/mrkdwn.js';
import { appMention, BOT_USER_ID } from '../helpers/slack-events.js';

const inbound = (body: unknown) => inboundFromEvent(body as EventCallback, { botUserId: BOT_USER_ID, threadFollowUps: true });

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
});
