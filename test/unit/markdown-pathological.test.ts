/**
 * Replies no converter may choke on: a long run of `>` overflowed the stack (a RangeError, so the
 * paid answer was dead-lettered), and runs of `[`, `**a `, `)` after a URL and the like were
 * quadratic or worse (seconds per reply). Each case is far past where the old code threw or took
 * minutes, and asserts what the text becomes.
 */
import { describe, expect, it } from 'vitest';
import { markdownToMrkdwn } from '../../adapters/slack/mrkdwn.js';
import { markdownToWhatsApp } from '../../adapters/whatsapp/format.js';
import { markdownToIntercomHtml } from '../../adapters/intercom/markdown-html.js';

const N = 200_000;

/** `expect(actual).toBe(expected)` that reports where long texts part, not both texts whole. */
function same(actual: string, expected: string): void {
  let at = 0;
  while (at < expected.length && actual[at] === expected[at]) at++;
  const around = (text: string) => JSON.stringify(text.slice(Math.max(0, at - 20), at + 20));
  expect(actual === expected ? 'same' : `part at ${at} of ${actual.length}/${expected.length}: ${around(actual)} vs ${around(expected)}`).toBe('same');
}

describe('a long run of `>`', () => {
  it('quotes 16 levels deep and keeps the rest as text, without overflowing the stack', () => {
    const run = '>'.repeat(12_000);
    same(markdownToMrkdwn(run), '>'.repeat(16) + '&gt;'.repeat(12_000 - 16));
    same(markdownToWhatsApp(run), '> '.repeat(16) + '>'.repeat(12_000 - 16));
    same(markdownToIntercomHtml(run), `<p>${'&gt;'.repeat(12_000 - 1)}</p>`);
  });

  it('converts what is inside the deepest quote it reads', () => {
    same(markdownToMrkdwn('> > - **item**'), '> > • *item*');
    same(markdownToWhatsApp(`${'> '.repeat(20)}**bold**`), `${'> '.repeat(16)}${'> '.repeat(4)}*bold*`);
    same(markdownToMrkdwn(`${'>'.repeat(17)} a`), `${'>'.repeat(16)}&gt; a`);
  });
});

describe('runs that made the converters quadratic', () => {
  // [the repeated unit, the input, Slack, WhatsApp, Intercom]
  const cases: [string, string, string, string, string][] = [
    ['[', '['.repeat(N), '['.repeat(N), '['.repeat(N), `<p>${'['.repeat(N)}</p>`],
    ['![', '!['.repeat(N / 2), '!['.repeat(N / 2), '!['.repeat(N / 2), `<p>${'!['.repeat(N / 2)}</p>`],
    ['[a', '[a'.repeat(N / 2), '[a'.repeat(N / 2), '[a'.repeat(N / 2), `<p>${'[a'.repeat(N / 2)}</p>`],
    ['**a ', '**a '.repeat(N / 2), '**a '.repeat(N / 2), '**a '.repeat(N / 2), `<p>${'**a '.repeat(N / 2).trim()}</p>`],
    ['*a ', '*a '.repeat(N / 2), '*a '.repeat(N / 2), '*a '.repeat(N / 2), `<p>${'*a '.repeat(N / 2).trim()}</p>`],
    ['~~a ', '~~a '.repeat(N / 2), '~~a '.repeat(N / 2), '~~a '.repeat(N / 2), `<p>${'~~a '.repeat(N / 2).trim()}</p>`],
    ['_a ', '_a '.repeat(N / 2), '_a '.repeat(N / 2), '_a '.repeat(N / 2), `<p>${'_a '.repeat(N / 2).trim()}</p>`],
  ];
  it.each(cases)('a run of %j is kept as text', (_unit, input, slack, whatsApp, intercom) => {
    same(markdownToMrkdwn(input), slack);
    same(markdownToWhatsApp(input), whatsApp);
    same(markdownToIntercomHtml(input), intercom);
  });

  it('still converts the spans and links before such a run', () => {
    const tail = '**a '.repeat(N / 4) + '['.repeat(N / 2);
    same(markdownToMrkdwn(`**b** [x](https://e.com) ${tail}`), `*b* <https://e.com|x> ${tail}`);
    same(markdownToIntercomHtml(`__b__ _c_ ${tail}`), `<p><b>b</b> <i>c</i> ${tail.trim()}</p>`);
  });

  it('a URL followed by a run of `)` ends before them', () => {
    const input = `see https://e.com/a${')'.repeat(N / 2)}`;
    same(markdownToMrkdwn(input), `see https://e.com/a${')'.repeat(N / 2)}`);
    same(markdownToIntercomHtml(input), `<p>see <a href="https://e.com/a">https://e.com/a</a>${')'.repeat(N / 2)}</p>`);
  });

  it('an email address with a run of dots is text', () => {
    same(markdownToMrkdwn(`<a@b${'.'.repeat(N / 2)}`), `&lt;a@b${'.'.repeat(N / 2)}`);
    same(markdownToMrkdwn('<a@b.co>'), '<mailto:a@b.co|a@b.co>');
  });

  it('a heading, a bullet or an item with a long run of blanks', () => {
    const blanks = ' '.repeat(N);
    same(markdownToMrkdwn(`# a${blanks}x`), `*a${blanks}x*`);
    same(markdownToWhatsApp(`# a${blanks}x ##`), `*a${blanks}x*`);
    same(markdownToMrkdwn(`-${blanks}a\u2028b`), `-${blanks}a\u2028b`); // `.` stops at U+2028: no bullet
    same(markdownToMrkdwn(`#${blanks}a\u2028b`), `#${blanks}a\u2028b`);
    same(markdownToIntercomHtml(`1.${blanks}a\u2028b`), `<p>1.${blanks}a\u2028b</p>`);
  });
});
