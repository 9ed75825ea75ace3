import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { splitMessage } from '../../src/text/index.js';

const nonWhitespace = (text: string) => text.replace(/\s+/g, '');
/** The text without its fence lines, so split code blocks (which gain fences) compare equal. */
const withoutFences = (text: string) =>
  text
    .split('\n')
    .filter((line) => !/^\s*(?:```|~~~)/.test(line))
    .join('\n');
const fenceCount = (part: string) => part.match(/```/g)?.length ?? 0;

/** The invariants every split must keep, whatever the input. */
function expectWellFormed(parts: string[], maxChars: number): void {
  expect(parts.length).toBeGreaterThan(0);
  for (const part of parts) {
    expect(part.length).toBeLessThanOrEqual(maxChars);
    expect(part).toMatch(/\S/);
    expect(part).not.toMatch(/^[ \t]*\r?\n/); // no leading blank line
    expect(part).toBe(part.trimEnd()); // no trailing blank line or space
    expect(/^[\uDC00-\uDFFF]/.test(part), `part starts with a lone low surrogate: ${JSON.stringify(part)}`).toBe(false);
    expect(/[\uD800-\uDBFF]$/.test(part), `part ends with a lone high surrogate: ${JSON.stringify(part)}`).toBe(false);
  }
}

function paragraph(seed: number, words: number): string {
  const vocabulary = ['webhook', 'queue', 'retry', 'backoff', 'signature', 'Slack', 'worker', 'lock', 'Redis', 'limit'];
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    const word = vocabulary[(seed * 7 + i * 3) % vocabulary.length] ?? 'x';
    out.push(i % 9 === 8 ? `${word}.` : word);
  }
  return `${out.join(' ')}.`;
}

/** A realistic 4,000+ character reply: paragraphs, a list, a code block, a long line. */
function longReply(): string {
  const code = ['```ts', ...Array.from({ length: 12 }, (_, i) => `const value${i} = await queue.add('job-${i}', { attempt: ${i} });`), '```'];
  const text = [
    '## Why the queue matters',
    paragraph(1, 60),
    paragraph(2, 45),
    '- first point about retries\n- second point about backoff\n  - a nested detail\n- third point',
    paragraph(3, 80),
    code.join('\n'),
    paragraph(4, 120).replace(/\. /g, '.\n'),
    paragraph(5, 70),
    paragraph(6, 90),
    '> A quoted remark that ends the reply, with an emoji 🚀 and a family 👨‍👩‍👧‍👦.',
  ].join('\n\n');
  return text;
}

describe('splitMessage: trivial inputs', () => {
  it.each(['', '   ', '\n\n', ' \t\n \n'])('returns no parts for empty or whitespace input %j', (input) => {
    expect(splitMessage(input, 100)).toEqual([]);
  });

  it('returns text that fits as a single part, unchanged', () => {
    expect(splitMessage('Hello, world.', 100)).toEqual(['Hello, world.']);
    expect(splitMessage('x'.repeat(50), 50)).toEqual(['x'.repeat(50)]);
    expect(splitMessage('a\n\nb\nc', 6)).toEqual(['a\n\nb\nc']);
  });

  it('trims leading and trailing blank lines but keeps the first line’s indentation', () => {
    expect(splitMessage('\n\n  indented\n\n\n', 100)).toEqual(['  indented']);
  });

  it.each([0, 1, 1.5, Number.NaN, -3])('rejects an unusable maxChars %s', (maxChars) => {
    expect(() => splitMessage('text', maxChars)).toThrow(ConfigError);
  });
});

describe('splitMessage: boundary preference', () => {
  it('packs as many whole paragraphs as fit into each part', () => {
    const [a, b, c, d] = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40), 'd'.repeat(40)];
    const text = [a, b, c, d].join('\n\n');
    expect(splitMessage(text, 90)).toEqual([`${a}\n\n${b}`, `${c}\n\n${d}`]);
    expect(splitMessage(text, 130)).toEqual([`${a}\n\n${b}\n\n${c}`, d]);
    expect(splitMessage(text, 50)).toEqual([a, b, c, d]);
  });

  it('is greedy: no part could have taken the next paragraph too', () => {
    const paragraphs = Array.from({ length: 30 }, (_, i) => paragraph(i, 5 + ((i * 7) % 23)));
    const maxChars = 400;
    const parts = splitMessage(paragraphs.join('\n\n'), maxChars);
    expectWellFormed(parts, maxChars);
    for (let i = 0; i + 1 < parts.length; i++) {
      const nextParagraph = (parts[i + 1] ?? '').split('\n\n')[0] ?? '';
      expect((parts[i] ?? '').length + 2 + nextParagraph.length).toBeGreaterThan(maxChars);
    }
    expect(parts.join('\n\n')).toBe(paragraphs.join('\n\n'));
  });

  it('prefers a paragraph break over a later line break', () => {
    const text = 'first paragraph\n\nsecond line one\nsecond line two\nsecond line three';
    expect(splitMessage(text, 40)).toEqual(['first paragraph', 'second line one\nsecond line two', 'second line three']);
  });

  it('falls back to line breaks inside a paragraph too long for one part', () => {
    const lines = ['line one is here', 'line two is here', 'line three is here', 'line four'];
    expect(splitMessage(lines.join('\n'), 40)).toEqual(['line one is here\nline two is here', 'line three is here\nline four']);
  });

  it('falls back to sentence ends inside a line too long for one part', () => {
    const text = 'The first sentence. Is it the second? Yes! And here is the fourth one.';
    expect(splitMessage(text, 40)).toEqual(['The first sentence. Is it the second?', 'Yes! And here is the fourth one.']);
  });

  it('keeps closing quotes and brackets with the sentence they end', () => {
    expect(splitMessage('He said "stop." Then he left the room quietly.', 20)).toEqual(['He said "stop."', 'Then he left the', 'room quietly.']);
  });

  it('cuts at the line break after a code block whose lines end in CRLF, as after one in LF', () => {
    const text = 'Intro line.\r\n```\r\nconst a = 1;\r\n```\r\nAfter the code block comes a longer line of words here.';
    expect(splitMessage(text, 45)[0]).toBe('Intro line.\r\n```\r\nconst a = 1;\r\n```');
    expect(splitMessage(text.replaceAll('\r', ''), 45)[0]).toBe('Intro line.\n```\nconst a = 1;\n```');
  });

  it('cuts after Chinese and Japanese sentence ends, which take no space after them', () => {
    const text = '今日は晴れです。明日は雨が降るでしょう！「本当？」と彼は聞いた。';
    expect(splitMessage(text, 20)).toEqual(['今日は晴れです。明日は雨が降るでしょう！', '「本当？」と彼は聞いた。']);
    expect(splitMessage('这是第一句。这是第二句话。', 8)).toEqual(['这是第一句。', '这是第二句话。']);
  });

  it('keeps a run of full-width marks (！？, 。。。) whole, as one sentence end', () => {
    expect(splitMessage('はい。本当ですか！？そうです。', 9)).toEqual(['はい。', '本当ですか！？', 'そうです。']);
    expect(splitMessage('嗯。真的吗？？好吧。', 5)).toEqual(['嗯。', '真的吗？？', '好吧。']);
  });

  it('keeps the emphasis a Chinese or Japanese sentence closes with it, and leaves one the next opens to it', () => {
    // Slack's and WhatsApp's *bold*, markdown's **bold**: a closer cut off shows as a bare mark in both parts.
    expect(splitMessage('*重要です。*次に進みます。', 8)).toEqual(['*重要です。*', '次に進みます。']);
    expect(splitMessage('**重要です。**次に進みます。', 10)).toEqual(['**重要です。**', '次に進みます。']);
    expect(splitMessage('はい、そうです。*次*に進みます。', 9)).toEqual(['はい、そうです。', '*次*に進みます。']);
  });

  it('falls back to word boundaries inside a sentence too long for one part', () => {
    const text = 'alpha beta gamma delta epsilon zeta eta theta';
    const parts = splitMessage(text, 16);
    expect(parts).toEqual(['alpha beta gamma', 'delta epsilon', 'zeta eta theta']);
  });

  it('hard-cuts a single word longer than the limit', () => {
    expect(splitMessage('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
    expect(splitMessage(`short ${'y'.repeat(23)} end`, 10)).toEqual(['short', 'y'.repeat(10), 'y'.repeat(10), 'yyy end']);
  });

  it('keeps the indentation of a line that starts a part (nested lists stay nested)', () => {
    const text = '- top item with words\n  - nested item one\n  - nested item two';
    const parts = splitMessage(text, 45);
    expect(parts).toEqual(['- top item with words\n  - nested item one', '  - nested item two']);
  });

  it('handles CRLF line endings', () => {
    const text = 'para one here\r\n\r\npara two here\r\nline three';
    const parts = splitMessage(text, 20);
    expectWellFormed(parts, 20);
    expect(parts).toEqual(['para one here', 'para two here', 'line three']);
  });
});

describe('splitMessage: characters', () => {
  it.each([2, 3, 4, 5, 7, 10])('never splits a surrogate pair (maxChars %i)', (maxChars) => {
    const text = 'a😀😀b😀c😀😀😀d🎉e'.repeat(5);
    const parts = splitMessage(text, maxChars);
    expectWellFormed(parts, maxChars);
    expect(parts.join('')).toBe(text);
  });

  it('keeps a multi-code-point emoji (ZWJ sequence, flag) whole when it fits', () => {
    const family = '👨‍👩‍👧‍👦'; // 11 UTF-16 code units
    const flag = '🇫🇷'; // 4 UTF-16 code units
    const text = `${family}${family}${flag}${flag}${flag}${family}`;
    expect(family.length).toBe(11);
    const parts = splitMessage(text, 12);
    expect(parts).toEqual([family, family, `${flag}${flag}${flag}`, family]);
    expect(parts.join('')).toBe(text);
  });

  it('keeps a letter with a combining accent whole', () => {
    const text = 'e\u0301'.repeat(10); // é as e + combining acute
    const parts = splitMessage(text, 5);
    for (const part of parts) expect(part.startsWith('\u0301')).toBe(false);
    expect(parts.join('')).toBe(text);
  });

  // The limit falls just before the second half of a sequence whose next piece is itself a
  // surrogate pair (a skin tone, the second regional indicator of a flag, a tag): that piece
  // must be read whole, or it looks like a boundary and the sequence is cut in two.
  it.each([
    ['a thumbs-up with a skin tone', '👍🏽'],
    ['a flag', '🇺🇸'],
    ['a subdivision flag (tags)', '🏴󠁧󠁢󠁳󠁣󠁴󠁿'],
  ])('never cuts %s in two, wherever the limit falls', (_name, emoji) => {
    const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
    for (let offset = 0; offset < emoji.length; offset++) {
      const text = 'x'.repeat(offset) + emoji.repeat(12);
      const parts = splitMessage(text, emoji.length * 3 + 1);
      expect(parts.join('')).toBe(text);
      for (const part of parts) {
        const pieces = [...graphemes.segment(part)].map((s) => s.segment).filter((s) => s !== 'x');
        expect(pieces.every((piece) => piece === emoji), `offset ${offset}: ${JSON.stringify(part)}`).toBe(true);
      }
    }
  });
});

describe('splitMessage: code blocks', () => {
  it('keeps a code block that fits whole, cutting around it', () => {
    const code = "```js\nconst a = 1;\n\nconst b = 2;\nconsole.log(a + b);\n```";
    const text = `Intro sentence here.\n\n${code}\n\nOutro sentence here.`;
    const parts = splitMessage(text, code.length + 5);
    expect(parts).toEqual(['Intro sentence here.', code, 'Outro sentence here.']);
  });

  it('never cuts at the blank line inside a code block that fits', () => {
    const code = '```\nfirst half of the code\n\nsecond half of the code\n```';
    const text = `${'p'.repeat(30)}\n${code}`;
    const parts = splitMessage(text, 60);
    expect(parts).toEqual(['p'.repeat(30), code]);
  });

  it('splits a code block longer than the limit on lines, re-fencing every part with its language', () => {
    const lines = Array.from({ length: 60 }, (_, i) => `  result${i} = compute(${i}) // step ${i}`);
    const text = ['```python', ...lines, '```'].join('\n');
    const maxChars = 300;
    const parts = splitMessage(text, maxChars);
    expectWellFormed(parts, maxChars);
    expect(parts.length).toBeGreaterThan(5);
    for (const part of parts) {
      expect(part.startsWith('```python\n')).toBe(true);
      expect(part.endsWith('\n```')).toBe(true);
      expect(fenceCount(part) % 2).toBe(0);
    }
    // Every code line survives, whole and in order, with its indentation.
    const bodies = parts.flatMap((part) => part.split('\n').slice(1, -1));
    expect(bodies).toEqual(lines);
  });

  it('hard-cuts a code line longer than a part, still fenced', () => {
    const longLine = 'z'.repeat(100);
    const text = `\`\`\`\n${longLine}\nshort\n\`\`\``;
    const parts = splitMessage(text, 40);
    expectWellFormed(parts, 40);
    for (const part of parts) expect(part).toMatch(/^```\n[\s\S]+\n```$/);
    expect(nonWhitespace(withoutFences(parts.join('\n')))).toBe(longLine + 'short');
  });

  it('closes the parts of an unclosed (truncated) code block', () => {
    const text = ['```sh', ...Array.from({ length: 20 }, (_, i) => `echo line number ${i}`)].join('\n');
    const parts = splitMessage(text, 100);
    expectWellFormed(parts, 100);
    for (const part of parts) expect(fenceCount(part)).toBe(2);
    expect(nonWhitespace(withoutFences(parts.join('\n')))).toBe(nonWhitespace(withoutFences(text)));
  });

  it('splits tilde-fenced blocks the same way', () => {
    const text = ['~~~rb', ...Array.from({ length: 12 }, (_, i) => `puts ${i} * ${i}`), '~~~'].join('\n');
    const parts = splitMessage(text, 50);
    expectWellFormed(parts, 50);
    for (const part of parts) {
      expect(part.startsWith('~~~rb\n')).toBe(true);
      expect(part.endsWith('\n~~~')).toBe(true);
    }
  });

  it('keeps prose and a split code block apart, fences balanced in every part', () => {
    const code = ['```ts', ...Array.from({ length: 30 }, (_, i) => `export const n${i} = ${i};`), '```'].join('\n');
    const text = `Here is the file:\n\n${code}\n\nThat is all. Let me know if it works.`;
    const parts = splitMessage(text, 200);
    expectWellFormed(parts, 200);
    expect(parts[0]).toBe('Here is the file:'); // the first code part fills a part on its own
    expect(parts[1]).toMatch(/^```ts\nexport const n0 = 0;\n/);
    for (const part of parts) expect(fenceCount(part) % 2).toBe(0);
    expect(parts.at(-1)).toMatch(/Let me know if it works\.$/);
    expect(nonWhitespace(withoutFences(parts.join('\n')))).toBe(nonWhitespace(withoutFences(text)));
  });

  it('treats the parts of a split code block as paragraphs, so prose packs with one that leaves room', () => {
    const lines = Array.from({ length: 8 }, (_, i) => `const value${i} = await queue.add('job-${i}');`);
    const text = `Intro.\n\n${['```ts', ...lines, '```'].join('\n')}\n\nOutro.`;
    const parts = splitMessage(text, 200);
    expect(parts).toEqual([
      `Intro.\n\n\`\`\`ts\n${lines.slice(0, 4).join('\n')}\n\`\`\``,
      `\`\`\`ts\n${lines.slice(4).join('\n')}\n\`\`\`\n\nOutro.`,
    ]);
  });

  it('splits a nested list item’s code block (indented past 3 spaces) as a code block, fences balanced in every part', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `    export const n${i} = ${i};`);
    const text = ['- Step:', '  - Save this:', '    ```ts', ...lines, '    ```', '  - Done'].join('\n');
    const parts = splitMessage(text, 200);
    expectWellFormed(parts, 200);
    expect(parts.length).toBeGreaterThan(3);
    for (const part of parts) expect(fenceCount(part) % 2).toBe(0);
    const bodies = parts.flatMap((part) => part.split('\n')).filter((line) => line.startsWith('    export'));
    expect(bodies).toEqual(lines);
  });

  it('still respects the limit when even the fences would not fit', () => {
    const text = '```typescript\nconst a = 1;\nconst b = 2;\n```';
    const parts = splitMessage(text, 12);
    expectWellFormed(parts, 12);
    expect(nonWhitespace(parts.join(''))).toBe(nonWhitespace(text));
  });
});

describe('splitMessage: a long realistic reply', () => {
  const reply = longReply();

  it('is long enough to need splitting', () => {
    expect(reply.length).toBeGreaterThan(4000);
  });

  it.each([300, 500, 1000, 1600, 2000, 3000])('splits into parts ≤ %i whose content together is the reply', (maxChars) => {
    const parts = splitMessage(reply, maxChars);
    expectWellFormed(parts, maxChars);
    expect(parts.length).toBeGreaterThanOrEqual(Math.ceil(reply.length / maxChars));
    for (const part of parts) expect(fenceCount(part) % 2).toBe(0);
    // Order and content: only whitespace (and, for a split code block, its fences) may differ.
    expect(nonWhitespace(withoutFences(parts.join('\n')))).toBe(nonWhitespace(withoutFences(reply)));
  });

  it('does not split the code block when it fits in a part', () => {
    const parts = splitMessage(reply, 1600);
    const withCode = parts.filter((part) => part.includes('```'));
    expect(withCode).toHaveLength(1);
    expect(fenceCount(withCode[0] ?? '')).toBe(2);
    expect(withCode[0]).toContain("const value0 = await queue.add('job-0'");
    expect(withCode[0]).toContain("const value11 = await queue.add('job-11'");
  });

  it('concatenates back to exactly the reply’s non-whitespace when nothing needs re-fencing', () => {
    const parts = splitMessage(reply, 2000);
    expect(parts.join('').replace(/\s+/g, '')).toBe(reply.replace(/\s+/g, ''));
  });
});

describe('splitMessage: generated inputs', () => {
  /** A small deterministic PRNG (mulberry32) so failures reproduce. */
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function generate(next: () => number): string {
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const words = ['a', 'reply', 'queue', 'supercalifragilisticexpialidocious', '😀', '👨‍👩‍👧‍👦', 'é', 'x'.repeat(70), 'end.', 'why?', 'yes!'];
    const blocks: string[] = [];
    const count = 3 + Math.floor(next() * 15);
    for (let b = 0; b < count; b++) {
      if (next() < 0.2) {
        const lines = Array.from({ length: 1 + Math.floor(next() * 25) }, () =>
          Array.from({ length: Math.floor(next() * 8) }, () => pick(words)).join(' '),
        );
        blocks.push(['```' + pick(['', 'ts', 'python']), ...lines, '```'].join('\n'));
      } else {
        const lines = Array.from({ length: 1 + Math.floor(next() * 4) }, () =>
          (next() < 0.2 ? '  - ' : '') + Array.from({ length: 1 + Math.floor(next() * 30) }, () => pick(words)).join(' '),
        );
        blocks.push(lines.join('\n'));
      }
    }
    return blocks.join(pick(['\n\n', '\n\n\n', '\n \n']));
  }

  it.each(Array.from({ length: 40 }, (_, i) => i + 1))('keeps every invariant for generated reply #%i', (seed) => {
    const next = random(seed);
    const text = generate(next);
    const maxChars = 40 + Math.floor(next() * 600);
    expect(text.length).toBeGreaterThan(maxChars); // the generator always produces something to split
    const parts = splitMessage(text, maxChars);
    expectWellFormed(parts, maxChars);
    for (const part of parts) expect(fenceCount(part) % 2).toBe(0);
    expect(nonWhitespace(withoutFences(parts.join('\n')))).toBe(nonWhitespace(withoutFences(text)));
  });
});
