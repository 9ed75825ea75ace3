import { describe, expect, it } from 'vitest';
import { cutTitle, titleText } from '../../adapters/slack/assistant.js';

describe("an assistant thread's title", () => {
  it('is the question as plain text: links show their label or address, channels and people their names', () => {
    expect(titleText('see <https://example.com/a?b=1&amp;c=2|the docs> and <https://x.dev>')).toBe('see the docs and https://x.dev');
    expect(titleText('ask <#C0123|general> or <@U0456|maria> about <!here>')).toBe('ask #general or @maria about @here');
    expect(titleText('ping <@U0456> in <#C0123>')).toBe('ping @… in #…');
    expect(titleText('is 1 &lt; 2 &amp;&amp; 3 &gt; 2?')).toBe('is 1 < 2 && 3 > 2?');
  });

  it('holds no half emoji (a lone surrogate): the Web API client cannot form-encode one', () => {
    expect(titleText('broken at the end \ud83d')).toBe('broken at the end \ufffd');
    expect(titleText('lo\ud800ne \udc00x 👍🏽')).toBe('lo\ufffdne \ufffdx 👍🏽');
  });

  it('is cut to 60 characters as a reader counts them, never inside an emoji or a flag', () => {
    const flags = '🇺🇸'.repeat(70);
    expect(cutTitle(flags)).toBe(`${'🇺🇸'.repeat(59)}…`);
    const family = '👨‍👩‍👧'.repeat(61);
    expect(cutTitle(family)).toBe(`${'👨‍👩‍👧'.repeat(59)}…`);
    expect(cutTitle(`${'word '.repeat(11)}and more words`)).toBe(`${'word '.repeat(11)}and…`);
    expect(cutTitle(`${'x'.repeat(58)} ${'y'.repeat(10)}`)).toBe(`${'x'.repeat(58)}…`);
    expect(cutTitle('short one')).toBe('short one');
  });

  it('stays short when a character carries hundreds of combining marks (zalgo text): at most 960 UTF-16 units', () => {
    const zalgo = `a${'\u0301'.repeat(200)}`;
    const title = cutTitle(`${zalgo.repeat(80)} what is this`);
    expect(title.length).toBeLessThanOrEqual(960);
    expect(title).toBe(`${zalgo.repeat(4)}…`);
    expect(cutTitle(zalgo.repeat(30))).toBe(`${zalgo.repeat(4)}…`);
    expect(cutTitle(`a${'\u0301'.repeat(2000)}`)).toBe(`a${'\u0301'.repeat(58)}…`);
    const flags = '🏴󠁧󠁢󠁳󠁣󠁴󠁿'.repeat(70);
    expect(cutTitle(flags)).toBe(`${'🏴󠁧󠁢󠁳󠁣󠁴󠁿'.repeat(59)}…`);
  });

  it('is cut from a question of 200,000 characters as from a short one (reading all its characters took minutes)', () => {
    expect(cutTitle('a'.repeat(200_000))).toBe(`${'a'.repeat(59)}…`);
    expect(cutTitle('👍🏽 '.repeat(1000))).toBe(`${'👍🏽 '.repeat(29)}👍🏽…`);
  });

  it('is one line', () => {
    expect(titleText('  first line\n\nsecond\tline ')).toBe('first line second line');
  });
});
