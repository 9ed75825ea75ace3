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
});
