import { describe, expect, it } from 'vitest';
import {
  closingFence,
  emphasis,
  headingTitle,
  isRule,
  openingFence,
  renderInline,
  renderMarkdown,
  type InlineRenderer,
  type MarkdownRenderer,
} from '../../src/text/index.js';

/** A renderer that names every hook it is called with, so the tests see what the walk found. */
const tagged: MarkdownRenderer = {
  marks: { bold: '+', italic: '/', strike: '-' },
  rule: '[rule]',
  text: (text) => text.replace(/&/g, '&amp;'),
  code: (span, content) => `[code ${content}]`,
  link: (url, label, inline) => `[link ${url} ${inline(label)}]`,
  autolink: (url) => (url.startsWith('https:') ? `[auto ${url}]` : undefined),
  email: (address) => `[mail ${address}]`,
  url: (url) => `[url ${url}]`,
  fence: (indent) => `${indent}[fence]`,
  heading: (title) => `[h ${title}]`,
  quote: (marker, line) => `[q ${JSON.stringify(marker)} ${line}]`,
  bullet: (indent, item) => `${indent}[li ${item}]`,
};

describe('renderMarkdown: blocks', () => {
  it.each([
    ['---', '[rule]'],
    ['* * *', '[rule]'],
    ['## Title ##', '[h Title]'],
    ['#', ''],
    ['#hashtag', '#hashtag'],
    ['> quoted', '[q "> " quoted]'],
    ['> - item', '[q "> " [li item]]'],
    ['  - nested', '  [li nested]'],
    ['1. numbered', '1. numbered'],
    ['   ', '   '],
  ])('%j → %j', (markdown, expected) => {
    expect(renderMarkdown(markdown, tagged)).toBe(expected);
  });

  it('keeps code blocks as they are, fences through the renderer', () => {
    const markdown = ['```ts', '**not bold** & <kept>', '~~~', '```', '**bold**'].join('\n');
    expect(renderMarkdown(markdown, tagged)).toBe(['[fence]', '**not bold** & <kept>', '~~~', '[fence]', '+bold+'].join('\n'));
  });

  it('runs an unclosed code block to the end', () => {
    expect(renderMarkdown('~~~~\n# not a heading', tagged)).toBe('[fence]\n# not a heading');
  });

  it('keeps CRLF line endings', () => {
    expect(renderMarkdown('**a**\r\n- b\r\n', tagged)).toBe('+a+\r\n[li b]\r\n');
  });

  it('formats a heading without bold, and everything else with the marks', () => {
    expect(renderMarkdown('# **Big** *news*', tagged)).toBe('[h Big /news/]');
    expect(renderMarkdown('**Big** *news* ~~old~~', tagged)).toBe('+Big+ /news/ -old-');
  });
});

describe('renderInline', () => {
  const inline: InlineRenderer = { ...tagged, emphasis: (text) => emphasis(text, tagged.marks) };

  it('sets code spans, escapes, links and URLs aside from emphasis and escaping', () => {
    expect(renderInline('`a*b*` \\*x\\* & https://e.com/a_b_c.', inline)).toBe('[code a*b*] *x* &amp; [url https://e.com/a_b_c].');
  });

  it('formats a link label like other inline text, code spans in it included', () => {
    expect(renderInline('[**see** `x`](https://e.com)', inline)).toBe('[link https://e.com +see+ [code x]]');
    expect(renderInline('![](<img.png>)', inline)).toBe('[link img.png ]');
  });

  it('leaves an autolink the renderer declines as text', () => {
    expect(renderInline('<https://e.com> <foo:bar> <a@b.co>', inline)).toBe('[auto https://e.com] <foo:bar> [mail a@b.co]');
  });

  it('leaves email autolinks as text without an email hook, and takes the bare URLs the renderer names', () => {
    const { email: _email, ...rest } = inline;
    const webOnly: InlineRenderer = { ...rest, bareUrls: /\bhttps?:\/\/[^\s<>]+/gi };
    expect(renderInline('<a@b.co> ftp://f.g/x http://h.i/(j))', webOnly)).toBe('<a@b.co> ftp://f.g/x [url http://h.i/(j)])');
  });
});

describe('emphasis', () => {
  it.each([
    ['***both***', '+/both/+'],
    ['___both___', '+/both/+'],
    ['**a *b* c**', '+a /b/ c+'],
    ['__bold__ _as is_', '+bold+ _as is_'],
    ['~~gone~~', '-gone-'],
    ['2 * 3 * 4', '2 * 3 * 4'],
    ['snake__case__name', 'snake__case__name'],
  ])('%j → %j', (text, expected) => {
    expect(emphasis(text, tagged.marks)).toBe(expected);
  });

  it('takes marks literally', () => {
    expect(emphasis('**x**', { bold: '$1', italic: '$&', strike: '$$' })).toBe('$1x$1');
  });
});

describe('block patterns', () => {
  it('finds opening and closing fences', () => {
    expect(openingFence('  ```ts')).toEqual({ indent: '  ', marker: '```' });
    expect(openingFence('~~~~')).toEqual({ indent: '', marker: '~~~~' });
    expect(openingFence('``` a`b')).toBeUndefined(); // inline code, not a fence
    // Any depth: a nested list item's code block is indented past 3; it closes within 3 more than it opened.
    expect(openingFence('    ```')).toEqual({ indent: '    ', marker: '```' });
    expect(closingFence('    ```', '```')).toBeUndefined();
    expect(closingFence('      ```', '```', '    ')).toBe('      ');
    expect(closingFence('        ```', '```', '    ')).toBeUndefined();
    expect(closingFence(' ````  ', '```')).toBe(' ');
    expect(closingFence('```', '````')).toBeUndefined();
    expect(closingFence('~~~', '```')).toBeUndefined();
    expect(closingFence('``` ts', '```')).toBeUndefined();
  });

  it('finds rules and headings', () => {
    expect(isRule('- - -')).toBe(true);
    expect(isRule('--')).toBe(false);
    expect(headingTitle('### A title ###')).toBe('A title');
    expect(headingTitle('#')).toBe('');
    expect(headingTitle('#no')).toBeUndefined();
    expect(headingTitle('####### seven')).toBeUndefined();
  });
});

describe('placeholders cannot be forged', () => {
  it('drops private-use placeholder characters from the input before converting', async () => {
    const { markdownToMrkdwn } = await import('../../adapters/slack/mrkdwn.js');
    expect(markdownToMrkdwn('a \uE0010\uE002 [x](https://e.com)')).toBe('a 0 <https://e.com|x>');
  });
});
