/** Finishing a broken Slack stream: how a long rest is cut for one chat.stopStream, and which failures may have been taken. */
import { describe, expect, it } from 'vitest';
import { MAX_STOP_TEXT_CHARS, maybeTaken, stopTextOf } from '../../adapters/slack/stream-finish.js';

describe('stopTextOf', () => {
  it('keeps a rest that fits whole', () => {
    expect(stopTextOf('short rest')).toEqual(['short rest', '']);
  });

  it('cuts a longer rest at its last paragraph break within the limit, losing nothing', () => {
    const rest = `${'a'.repeat(9000)}\n\n${'b'.repeat(2000)}\n${'c'.repeat(3000)}`;
    const [head, tail] = stopTextOf(rest);
    expect(head).toBe(`${'a'.repeat(9000)}`);
    expect(head + tail).toBe(rest);
  });

  it('cuts at a line, then a space, and only then mid-word, never inside an emoji', () => {
    const spaced = `${'word '.repeat(3000)}`;
    const [head] = stopTextOf(spaced);
    expect(head.length).toBeLessThanOrEqual(MAX_STOP_TEXT_CHARS);
    expect(head.endsWith('word')).toBe(true);
    const emoji = '\u{1F600}'.repeat(7000); // 14,000 UTF-16 code units, no place to cut
    const [emojiHead, emojiTail] = stopTextOf(emoji);
    expect(emojiHead.length).toBeLessThanOrEqual(MAX_STOP_TEXT_CHARS);
    expect(emojiHead.isWellFormed() && emojiTail.isWellFormed()).toBe(true);
    expect(emojiHead + emojiTail).toBe(emoji);
  });

  it('never cuts inside an emoji sequence (ZWJ, flags, skin tones) when it must cut mid-word', () => {
    const graphemes = (text: string) => Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text), (s) => s.segment);
    for (const emoji of ['👩‍👩‍👧‍👦', '🏳️‍🌈', '🇫🇷', '👍🏽', 'e\u0301']) {
      for (let offset = 0; offset < emoji.length; offset++) {
        const rest = 'a'.repeat(offset) + emoji.repeat(Math.ceil(14_000 / emoji.length));
        const [head, tail] = stopTextOf(rest);
        expect(head.length).toBeLessThanOrEqual(MAX_STOP_TEXT_CHARS);
        expect(head + tail).toBe(rest);
        expect([...graphemes(head), ...graphemes(tail)]).toEqual(graphemes(rest));
      }
    }
  });
});

describe('maybeTaken', () => {
  it('reads a connection cut that fetch wraps as its cause, but not a connection refused', () => {
    expect(maybeTaken(new TypeError('fetch failed', { cause: new Error('socket hang up') }))).toBe(true);
    expect(maybeTaken(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) }))).toBe(false);
  });
});
