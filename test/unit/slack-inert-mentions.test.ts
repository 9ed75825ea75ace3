/** The model's streamed text (markdown_text) cannot ping: mentions made inert, also across chunks, the text shown as written. */
import { describe, expect, it } from 'vitest';
import { InertMentionStream, inertMentions } from '../../adapters/slack/inert-mentions.js';
import { MAX_STOP_TEXT_CHARS, finishStream, stopTextOf } from '../../adapters/slack/stream-finish.js';

/** A sequence Slack would expand into a mention (or a channel link). */
const CAN_PING = /<(?:[@#]|!(?:here|channel|everyone|group|subteam))|(?<!\w)@(?:here|channel|everyone)/i;
/** The text as the reader sees it: the zero-width spaces show nothing. */
const displayed = (text: string) => text.replace(/\u200B/g, '');

const MENTIONS = ['<!channel>', '<!here>', '<!everyone>', '<!group>', '<!subteam^S0TEAM|@team>', '<@U0ALICE>', '<@W0BOB|bob>', '<#C0GENERAL>', '<#C0GENERAL|general>', '<!Channel>', '<!HERE|here>', '@here', '@channel please', 'hey @everyone'];

describe('inertMentions', () => {
  it.each(MENTIONS)('%j cannot ping, and reads the same', (text) => {
    const sent = inertMentions(text);
    expect(sent).not.toMatch(CAN_PING);
    expect(displayed(sent)).toBe(text);
  });

  it('makes them inert inside code too, where a reply asked to repeat them would put them', () => {
    const text = 'Run `echo <!channel>` or:\n\n```\nnotify(<@U0ALICE>, "<!here>")\n```\n';
    const sent = inertMentions(text);
    expect(sent).not.toMatch(CAN_PING);
    expect(displayed(sent)).toBe(text);
  });

  it.each([
    'plain words, **bold**, _italic_ and ~~strike~~',
    'if a < b && b > c then `a <b> c`',
    '```html\n<!DOCTYPE html>\n<!-- a comment -->\n<p>x &amp; y</p>\n```',
    'see [the docs](https://example.com/a?b=1&c=2) or <https://example.com>',
    'write to me@here.example or support@channel.example',
    '# Heading\n- item\n1. first\n> quoted',
  ])('leaves %j exactly as it is', (text) => {
    expect(inertMentions(text)).toBe(text);
  });
});

describe('InertMentionStream', () => {
  const text = 'Sure: <!channel> and <@U0ALICE> in <#C0GENERAL>, then @here; code `<!everyone>` and <!subteam^S1>, but a <b> tag, <!-- x -->, me@here.example.';
  const streamed = (chunks: string[]) => {
    const inert = new InertMentionStream();
    return chunks.map((chunk) => inert.push(chunk)).join('') + inert.end();
  };

  it('a mention split between two chunks, wherever the cut, cannot ping, and the text reads the same', () => {
    for (let cut = 0; cut <= text.length; cut++) {
      const sent = streamed([text.slice(0, cut), text.slice(cut)]);
      expect(sent, `cut at ${cut}`).not.toMatch(CAN_PING);
      expect(displayed(sent), `cut at ${cut}`).toBe(text);
      expect(sent, `cut at ${cut}`).toBe(inertMentions(text));
    }
  });

  it('one character a chunk: the same', () => {
    const sent = streamed([...text]);
    expect(sent).not.toMatch(CAN_PING);
    expect(sent).toBe(inertMentions(text));
  });

  it('holds back only what may begin a mention, and counts it', () => {
    const inert = new InertMentionStream();
    expect(inert.push('hello <!chan')).toBe('hello ');
    expect(inert.heldChars).toBe(6);
    expect(displayed(inert.push('nel> and <b'))).toBe('<!channel> and <b');
    expect(inert.heldChars).toBe(0);
    expect(inert.push('x@')).toBe('x');
    expect(inert.push('here.example')).toBe('@here.example'); // an address, not a mention
    expect(inert.push(' <')).toBe(' ');
    expect(inert.end()).toBe('<');
  });
});

describe('a broken stream finished with chat.stopStream: its text made inert still fits one stop', () => {
  it('cuts the rest so that what is sent, mentions made inert, stays within the limit', () => {
    const rest = '<@U0ALICE> '.repeat(2000); // 22,000 characters, a mention every 11
    const [head, tail] = stopTextOf(rest, MAX_STOP_TEXT_CHARS, inertMentions);
    expect(head + tail).toBe(rest);
    expect(inertMentions(head).length).toBeLessThanOrEqual(MAX_STOP_TEXT_CHARS);
  });

  it('finishStream hands the stop a head that fits once made inert', async () => {
    const rest = `${'<!here> '.repeat(1400)}${'x'.repeat(900)}`; // 12,100 characters
    const sent: string[] = [];
    const { left } = await finishStream(async (markdownText) => void (markdownText !== undefined && sent.push(inertMentions(markdownText))), rest, false, inertMentions);
    expect(sent[0]!.length).toBeLessThanOrEqual(MAX_STOP_TEXT_CHARS);
    expect(rest.startsWith(displayed(sent[0]!))).toBe(true);
    expect(displayed(sent[0]!) + left).toBe(rest);
  });
});
