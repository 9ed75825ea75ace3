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
});
