import { describe, expect, it } from 'vitest';
import { markdownToWhatsApp } from '../../adapters/whatsapp/format.js';

describe('markdownToWhatsApp: emphasis', () => {
  it.each([
    ['**bold**', '*bold*'],
    ['__bold__', '*bold*'],
    ['a **bold phrase** here', 'a *bold phrase* here'],
    ['*italic*', '_italic_'],
    ['_italic_', '_italic_'],
    ['an *italic phrase* here', 'an _italic phrase_ here'],
    ['~~strike~~', '~strike~'],
    ['***both***', '*_both_*'],
    ['**bold with *italic* inside**', '*bold with _italic_ inside*'],
    ['**a** and **b**', '*a* and *b*'],
    ['~~gone~~ and **kept**', '~gone~ and *kept*'],
  ])('%j → %j', (markdown, expected) => {
    expect(markdownToWhatsApp(markdown)).toBe(expected);
  });

  it.each([
    ['2 * 3 * 4 = 24'],
    ['snake_case_name'],
    ['a ** b'],
    ['~single~'],
    ['plain text, nothing to do.'],
  ])('leaves %j alone', (markdown) => {
    expect(markdownToWhatsApp(markdown)).toBe(markdown);
  });
});

describe('markdownToWhatsApp: links and URLs', () => {
  it.each([
    ['see [the docs](https://example.com/docs)', 'see the docs (https://example.com/docs)'],
    ['[**bold** label](https://example.com)', '*bold* label (https://example.com)'],
    ['[https://example.com](https://example.com)', 'https://example.com'],
    ['[](https://example.com)', 'https://example.com'],
    ['![a cat](https://example.com/cat.png)', 'a cat (https://example.com/cat.png)'],
    ['<https://example.com/a_b>', 'https://example.com/a_b'],
  ])('%j → %j', (markdown, expected) => {
    expect(markdownToWhatsApp(markdown)).toBe(expected);
  });

  it.each([
    ['Rated ***** by users, **great**', 'Rated ***** by users, *great*'],
    ['password: ******** (hidden)', 'password: ******** (hidden)'],
    ['card ending ****1234 and ****5678', 'card ending ****1234 and ****5678'],
    ['********** hi', '********** hi'],
  ])('leaves runs of asterisks that open or close nothing as written: %j', (markdown, expected) => {
    expect(markdownToWhatsApp(markdown)).toBe(expected);
  });

  it('leaves single asterisks inside a word as written (WhatsApp shows no italics there): 2*3*4 stays 2*3*4', () => {
    expect(markdownToWhatsApp('2*3*4 = 24, but *this* is italic')).toBe('2*3*4 = 24, but _this_ is italic');
  });

  it('does not read underscores or asterisks inside a URL as emphasis', () => {
    expect(markdownToWhatsApp('go to https://example.com/a_b_c/*x* now')).toBe('go to https://example.com/a_b_c/*x* now');
    expect(markdownToWhatsApp('[x](https://example.com/snake_case_path)')).toBe('x (https://example.com/snake_case_path)');
  });
});

describe('markdownToWhatsApp: blocks', () => {
  it('turns headings into bold lines, without nested bold', () => {
    expect(markdownToWhatsApp('# Title')).toBe('*Title*');
    expect(markdownToWhatsApp('### A **strong** section ###')).toBe('*A strong section*');
  });

  it('turns bullets into •, keeping indentation, and leaves numbered lists as written', () => {
    expect(markdownToWhatsApp('- one\n* two\n  + nested **b**\n1. first\n2. second')).toBe('• one\n• two\n  • nested *b*\n1. first\n2. second');
  });

  it('keeps quotes as WhatsApp quotes, converting inside them', () => {
    expect(markdownToWhatsApp('> a **quoted** line')).toBe('> a *quoted* line');
  });

  it('turns a horizontal rule into a line WhatsApp can show', () => {
    expect(markdownToWhatsApp('above\n\n---\n\nbelow')).toBe('above\n\n———\n\nbelow');
  });

  it('keeps code blocks as ``` blocks, their content untouched, without the language tag', () => {
    const markdown = 'Run:\n\n```ts\nconst a = **b** * c_d_e;\n# not a heading\n```\n\nDone **now**.';
    expect(markdownToWhatsApp(markdown)).toBe('Run:\n\n```\nconst a = **b** * c_d_e;\n# not a heading\n```\n\nDone *now*.');
  });

  it('keeps a nested list item’s code block (indented past 3 spaces) as code, its marks untouched', () => {
    const markdown = '- Setup:\n  - Create it:\n    ```py\n    def __init__(self, **kw):\n    ```\n  - **Run** it';
    expect(markdownToWhatsApp(markdown)).toBe('• Setup:\n  • Create it:\n```\n    def __init__(self, **kw):\n```\n  • *Run* it');
  });

  it('keeps inline code untouched', () => {
    expect(markdownToWhatsApp('call `foo(**x**, _y_)` **now**')).toBe('call `foo(**x**, _y_)` *now*');
  });

  it('does not convert backslash-escaped marks', () => {
    expect(markdownToWhatsApp('\\*not italic\\* and \\~\\~kept\\~\\~')).toBe('*not italic* and ~~kept~~');
  });

  it('keeps line endings and blank lines', () => {
    expect(markdownToWhatsApp('**a**\r\n\r\nb')).toBe('*a*\r\n\r\nb');
  });
});

describe('markdownToWhatsApp: a reply that shows nothing', () => {
  // A bare heading has no title: the reply would send nothing and the user get silence.
  it.each([
    ['#', '#'],
    ['  ## ##\n#  ', '## ##\n#'],
    ['Intro\n\n#', 'Intro\n\n'],
    [' \n', ' \n'],
  ])('%j → %j', (markdown, expected) => {
    expect(markdownToWhatsApp(markdown)).toBe(expected);
  });
});
