/**
 * The rest of a reply posted as a message of its own after a stream broke off: readable on its
 * own. A code block left open is opened again (with its language), a cut word is marked as continued.
 */
import { describe, expect, it } from 'vitest';
import { continuationOf } from '../../src/text/index.js';

describe('continuationOf', () => {
  it.each([
    ['inside a code block: opened again, with its info string', 'Here:\n```ts\nconst a = 1;\n', 'const b = 2;\n```\nDone.', '```ts\nconst b = 2;\n```\nDone.'],
    ['cut in the middle of a code line', 'Here:\n~~~\nt00059 = 59;\nt000', '60 = 60;\n~~~', '~~~\n60 = 60;\n~~~'],
    ['after a closed block: left as it is', '```\ncode\n```\n', 'More text.', 'More text.'],
    ['a word cut in two', 'The answer is fort', 'y-two.', '…y-two.'],
    ['cut between words', 'The answer is ', 'forty-two.', 'forty-two.'],
    ['nothing shown', '', 'all of it', 'all of it'],
  ])('%s', (_name, shown, rest, expected) => {
    expect(continuationOf(shown, rest)).toBe(expected);
  });
});
