import { describe, expect, it } from 'vitest';
import { markdownToMrkdwn } from '../../adapters/slack/mrkdwn.js';

describe('markdownToMrkdwn: tables (Slack has none)', () => {
  it('sets a table in a code block, its columns lined up, its cells without marks', () => {
    const markdown = 'Scores:\n\n| Name | Score |\n|:-----|------:|\n| **Ann** | `10` |\n| Bob \\| Jr | 9 |\n| a<b | 7 |\n\nThat is all.';
    expect(markdownToMrkdwn(markdown)).toBe(
      ['Scores:', '', '```', 'Name     | Score', '---------+------', 'Ann      | 10', 'Bob | Jr | 9', `a&lt;b${' '.repeat(6)}| 7`, '```', '', 'That is all.'].join('\n'),
    );
  });

  it('leaves pipes that make no table, and tables already in code, as they are', () => {
    expect(markdownToMrkdwn('a | b\nc | d')).toBe('a | b\nc | d');
    expect(markdownToMrkdwn('```\n| x |\n|---|\n```')).toBe('```\n| x |\n|---|\n```');
    // One header cell over a two-cell delimiter row: not a table (GFM).
    expect(markdownToMrkdwn('one\n|---|---|')).toBe('one\n|---|---|');
  });

  // Slack's monospace font shows CJK and emoji two columns wide and a combining mark in none: a
  // column padded by code points comes out of line.
  const fenced = (...lines: string[]) => ['```', ...lines, '```'].join('\n');

  it('lines up CJK and Hangul by display width, two columns a character', () => {
    const markdown = '| 名前 | 点 |\n|---|---|\n| 山田太郎 | 10 |\n| Ann (アン) | 9 |\n| 김민수 | 7 |';
    // Widest first column: 山田太郎 and `Ann (アン)`, 8 and 10 columns.
    expect(markdownToMrkdwn(markdown)).toBe(fenced(`名前${' '.repeat(6)} | 点`, '-----------+---', '山田太郎   | 10', 'Ann (アン) | 9', '김민수     | 7'));
  });

  it('lines up emoji by display width: ✅/❌, a skin tone, a ZWJ family and a flag are each one emoji, two columns', () => {
    const markdown = '| Check | Who |\n|---|---|\n| ✅ | 👨‍👩‍👧 family |\n| ❌ | 🇯🇵 team |\n| 👍🏽 | x |';
    expect(markdownToMrkdwn(markdown)).toBe(fenced('Check | Who', '------+----------', '✅    | 👨‍👩‍👧 family', '❌    | 🇯🇵 team', '👍🏽    | x'));
  });

  it('lines up combining accents by display width, the mark taking no column', () => {
    // Decomposed: e + U+0301 and the like, as some models and keyboards write them.
    const markdown = '| Cafe\u0301 | Prix |\n|---|---|\n| Cre\u0300me bru\u0302le\u0301e | 5 |\n| Tea | 3 |';
    expect(markdownToMrkdwn(markdown)).toBe(fenced(`Cafe\u0301${' '.repeat(8)} | Prix`, '-------------+-----', 'Cre\u0300me bru\u0302le\u0301e | 5', `Tea${' '.repeat(9)} | 3`));
  });

  // Lining up pads every row to the widest cell of each column and to the most cells of any row:
  // quadratic, and a hostile table of 32 KB came out as 256 million characters.
  it('keeps a table that lining up would blow up as written, its cells a row a line: a row of 3,000 cells over 3,000 empty rows', () => {
    const markdown = `a | b\n|---|---|\n${'| x '.repeat(3000)}|\n${'|\n'.repeat(3000)}`;
    const out = markdownToMrkdwn(markdown);
    expect(out.length).toBeLessThan(markdown.length * 2); // lined up: 3,001 rows of 3,000 columns, 36 million characters
    expect(out.split('\n').slice(0, 3)).toEqual(['```', 'a | b', '--+--']);
    expect(out.split('\n')[3]).toBe(Array(3000).fill('x').join(' | '));
  });

  it('keeps a wide cell from padding every other row to its width: a cell of 20,000 over 3,000 short rows', () => {
    const markdown = `| a | b |\n|---|---|\n| ${'x'.repeat(20_000)} | y |\n${'| c | d |\n'.repeat(3000)}`.trimEnd();
    const out = markdownToMrkdwn(markdown);
    expect(out.length).toBeLessThan(markdown.length); // lined up: 3,002 rows of 20,004 characters
    expect(out.split('\n').slice(-3)).toEqual(['c | d', 'c | d', '```']);
  });

  it('sets a table of 200,000 rows (more than a call takes arguments) without overflowing the stack', () => {
    const out = markdownToMrkdwn(`| n |\n|---|\n${'| 7 |\n'.repeat(200_000)}`.trimEnd());
    expect(out).toBe(['```', 'n', '-', ...Array<string>(200_000).fill('7'), '```'].join('\n'));
  });
});
