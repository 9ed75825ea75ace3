/**
 * Long replies split in time linear in their length. Each part searched the text to its end for a
 * boundary, and every boundary was checked against every code block of the reply: 600 KB of short
 * code blocks took half a minute to split, a 2 MB run of `。` as long. Each case is well past where
 * the old code took 20 seconds, and asserts what the parts are.
 */
import { describe, expect, it } from 'vitest';
import { splitMessage } from '../../src/text/index.js';

const nonWhitespace = (text: string) => text.replace(/\s+/g, '');

describe('splitMessage on long replies', () => {
  it('splits 64,000 short code blocks (640 KB) into parts that fit, every block whole in one part', () => {
    const block = '```\nx\n```';
    const text = `${block}\n`.repeat(64_000);
    const parts = splitMessage(text, 3900);
    // As many blocks as fit in each part: 390 of 9 characters and the line breaks between them.
    expect(parts.length).toBe(Math.ceil(64_000 / 390));
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(3900);
      expect(part.split('\n').every((line, i) => line === ['```', 'x', '```'][i % 3])).toBe(true);
    }
    expect(parts.join('\n')).toBe(text.trimEnd());
  });

  it('cuts a 2 MB run of full-width stops into whole parts', () => {
    const text = '。'.repeat(2_000_000);
    const parts = splitMessage(text, 3900);
    expect(parts.length).toBe(Math.ceil(2_000_000 / 3900));
    expect(parts.every((part) => part.length <= 3900)).toBe(true);
    expect(nonWhitespace(parts.join(''))).toBe(text);
  });
});
