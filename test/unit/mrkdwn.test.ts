import { describe, expect, it } from 'vitest';
import { markdownToMrkdwn } from '../../adapters/slack/mrkdwn.js';

describe('markdownToMrkdwn: emphasis', () => {
  it.each([
    ['**bold**', '*bold*'],
    ['__bold__', '*bold*'],
    ['a **bold phrase** here', 'a *bold phrase* here'],
    ['*italic*', '_italic_'],
    ['_italic_', '_italic_'],
    ['an *italic phrase* here', 'an _italic phrase_ here'],
    ['~~strike~~', '~strike~'],
    ['card ending ****1234 and ****5678', 'card ending ****1234 and ****5678'],
    ['Rated ***** by users, **great**', 'Rated ***** by users, *great*'],
    ['***both***', '*_both_*'],
    ['___both___', '*_both_*'],
    ['**bold with *italic* inside**', '*bold with _italic_ inside*'],
    ['*italic with **bold** inside*', '_italic with *bold* inside_'],
    ['**a** and **b**', '*a* and *b*'],
    ['*a* and *b*', '_a_ and _b_'],
    ['~~gone~~ and **kept**', '~gone~ and *kept*'],
  ])('%j → %j', (markdown, expected) => {
    expect(markdownToMrkdwn(markdown)).toBe(expected);
  });

  it.each([
    ['2 * 3 * 4 = 24', '2 * 3 * 4 = 24'],
    ['snake_case_name', 'snake_case_name'],
    ['a ** b', 'a ** b'],
    ['** not bold **', '** not bold **'],
    ['~single~', '~single~'],
  ])('leaves %j alone (not emphasis)', (markdown, expected) => {
    expect(markdownToMrkdwn(markdown)).toBe(expected);
  });

  it('leaves single asterisks inside a word as written: Slack shows no italics there, and 2*3*4 must not read 2_3_4', () => {
    expect(markdownToMrkdwn('2*3*4 = 24')).toBe('2*3*4 = 24');
    expect(markdownToMrkdwn('foo*bar*baz, x *y*z and w*v*')).toBe('foo*bar*baz, x *y*z and w*v*');
    expect(markdownToMrkdwn('an *italic* word, (*this*), *été*.')).toBe('an _italic_ word, (_this_), _été_.');
  });

  // Slack shows a mark as a mark only with a space or ASCII punctuation outside it: Chinese and
  // Japanese have no spaces between words, and their bold showed its asterisks.
  it.each([
    ['これは**重要**です。', 'これは\u200B*重要*\u200Bです。'],
    ['这是**粗体**文字，~~删除~~了', '这是\u200B*粗体*\u200B文字，\u200B~删除~\u200B了'],
    ['foo**bar**baz', 'foo\u200B*bar*\u200Bbaz'],
    ['中***文***字', '中\u200B*_文_*\u200B字'],
    ['(**a**) **b**, "**c**"', '(*a*) *b*, "*c*"'],
  ])('puts a zero-width space between a mark and a letter outside it: %j', (markdown, expected) => {
    expect(markdownToMrkdwn(markdown)).toBe(expected);
  });

  it('drops the private-use characters that stand in for marks from the model’s text', () => {
    expect(markdownToMrkdwn('a\uE010b\uE011c\uE012d')).toBe('abcd');
  });

  it('keeps a backslash-escaped asterisk from becoming italics', () => {
    const out = markdownToMrkdwn('\\*not italic\\*');
    expect(out).not.toContain('_');
    expect(out).toBe('*not italic*');
  });
});

describe('markdownToMrkdwn: links and URLs', () => {
  it.each([
    ['[text](https://example.com)', '<https://example.com|text>'],
    ['see [the docs](https://example.com/docs) now', 'see <https://example.com/docs|the docs> now'],
    ['[q](https://a.example/?x=1&y=2)', '<https://a.example/?x=1&amp;y=2|q>'],
    ['[a|b](https://a.example/p|q)', '<https://a.example/p%7Cq|a|b>'],
    ['[wiki](https://en.wikipedia.org/wiki/Foo_(bar))', '<https://en.wikipedia.org/wiki/Foo_(bar)|wiki>'],
    ['[titled](https://example.com "The title")', '<https://example.com|titled>'],
    ['[**bold** label](https://example.com)', '<https://example.com|*bold* label>'],
    ['[a < b](https://example.com)', '<https://example.com|a &lt; b>'],
    ['[](https://example.com)', '<https://example.com>'],
    ['![diagram](https://example.com/d.png)', '<https://example.com/d.png|diagram>'],
    ['![](https://example.com/d.png)', '<https://example.com/d.png>'],
    ['<https://example.com/auto>', '<https://example.com/auto>'],
    // Slack's own link syntax, as a model writes it back from the Slack message it read.
    ['capital of <https://fr.wikipedia.org|France>?', 'capital of <https://fr.wikipedia.org|France>?'],
    ['<https://example.com/ny|New York & *co*>', '<https://example.com/ny|New York &amp; _co_>'],
    ['<https://example.com/p|>', '<https://example.com/p%7C>'],
    ['mail <someone@example.com>', 'mail <mailto:someone@example.com|someone@example.com>'],
    ['[relative](/docs/setup)', 'relative'],
  ])('%j → %j', (markdown, expected) => {
    expect(markdownToMrkdwn(markdown)).toBe(expected);
  });

  it.each([
    'visit https://example.com today',
    'https://example.com/path_with_underscores_here',
    'https://example.com/*star*/x',
    'https://example.com/~~tilde~~',
    '(see https://example.com/a_(b)_c)',
    'ends with a URL https://example.com/_x_.',
  ])('leaves the bare URL in %j untouched', (markdown) => {
    expect(markdownToMrkdwn(markdown)).toBe(markdown);
  });

  it('escapes & in a bare URL as Slack requires, changing nothing else', () => {
    expect(markdownToMrkdwn('https://example.com/?a=1&b=2')).toBe('https://example.com/?a=1&amp;b=2');
  });

  it('does not take emphasis around a bare URL as part of it', () => {
    expect(markdownToMrkdwn('**https://example.com**')).toBe('*https://example.com*');
  });
});

// Slack reads its markup inside backticks too (and shows `&lt;` there as `<`): code keeps its
// markdown, but its `&`, `<` and `>` are escaped like any text.
const slackEscaped = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

describe('markdownToMrkdwn: code keeps its markdown, its Slack control characters escaped', () => {
  it.each([
    '`**not bold**`',
    '`a < b && c > d`',
    '`[text](https://example.com)`',
    '`# not a heading`',
    '``code with ` backtick``',
  ])('inline code %j', (markdown) => {
    expect(markdownToMrkdwn(markdown)).toBe(slackEscaped(markdown));
  });

  it('converts around inline code but not inside it', () => {
    expect(markdownToMrkdwn('**bold** `**raw** & <tag>` *it*')).toBe('*bold* `**raw** &amp; &lt;tag&gt;` _it_');
    expect(markdownToMrkdwn('x **`code`** y')).toBe('x *`code`* y');
  });

  it('copies a fenced block, escaped, and drops the language tag', () => {
    const body = ['# not a heading', '- not a bullet', 'const x = a < b && **c** > d;', '[no](https://link.example)', '---', '> not a quote'];
    const markdown = ['Before **b**', '```ts', ...body, '```', 'After *i*'].join('\n');
    expect(markdownToMrkdwn(markdown)).toBe(['Before *b*', '```', ...body.map(slackEscaped), '```', 'After _i_'].join('\n'));
  });

  it('turns a tilde fence or a longer backtick fence into Slack’s ```', () => {
    expect(markdownToMrkdwn('~~~python\nprint(1 < 2)\n~~~')).toBe('```\nprint(1 &lt; 2)\n```');
    expect(markdownToMrkdwn('````md\n```\ninner\n```\n````')).toBe('```\n```\ninner\n```\n```');
  });

  it('leaves an unclosed (truncated) block as code to the end', () => {
    expect(markdownToMrkdwn('```js\nlet a = **b** < c;\n**still code**')).toBe('```\nlet a = **b** &lt; c;\n**still code**');
  });

  it('keeps a nested list item’s code block (indented past 3 spaces) as code, its marks untouched', () => {
    const markdown = '- Setup:\n  - Create it:\n    ```py\n    def __init__(self, **kw):\n    ```\n  - **Run** it';
    expect(markdownToMrkdwn(markdown)).toBe('• Setup:\n  • Create it:\n    ```\n    def __init__(self, **kw):\n    ```\n  • *Run* it');
  });

  it('keeps indentation inside code', () => {
    const markdown = '```py\ndef f():\n    return 1\n```';
    expect(markdownToMrkdwn(markdown)).toBe('```\ndef f():\n    return 1\n```');
  });

  // A user asks the model to echo Slack markup in code: it must not ping the channel or hide a link's address.
  it.each([
    ['`<!channel>`', '`&lt;!channel&gt;`'],
    ['say `<!here|here>` now', 'say `&lt;!here|here&gt;` now'],
    ['```\n<!everyone> <@U123> <https://evil.example|https://bank.example>\n```', '```\n&lt;!everyone&gt; &lt;@U123&gt; &lt;https://evil.example|https://bank.example&gt;\n```'],
  ])('Slack markup in code %j stays text', (markdown, expected) => {
    expect(markdownToMrkdwn(markdown)).toBe(expected);
  });
});

describe('markdownToMrkdwn: blocks', () => {
  it.each([
    ['# Title', '*Title*'],
    ['## Section two', '*Section two*'],
    ['###### Deep', '*Deep*'],
    ['### Closed heading ###', '*Closed heading*'],
    ['## **Already bold**', '*Already bold*'],
    ['## With *italic* and `code`', '*With _italic_ and `code`*'],
    // A reply that is only a bare heading would show nothing (no message posted): shown as written.
    ['#', '#'],
    ['## ##\n\n#', '## ##\n\n#'],
    ['Intro\n\n#', 'Intro\n\n'],
    ['#hashtag', '#hashtag'],
    ['####### seven', '####### seven'],
  ])('heading %j → %j', (markdown, expected) => {
    expect(markdownToMrkdwn(markdown)).toBe(expected);
  });

  it('puts a heading on its own line between paragraphs', () => {
    expect(markdownToMrkdwn('Intro\n\n## Steps\nDo it')).toBe('Intro\n\n*Steps*\nDo it');
  });

  it.each([
    ['- item', '• item'],
    ['* item', '• item'],
    ['+ item', '• item'],
    ['- **bold** item', '• *bold* item'],
    ['* *italic* item', '• _italic_ item'],
    ['  - nested', '  • nested'],
    ['    * deeper', '    • deeper'],
    ['-not a bullet', '-not a bullet'],
  ])('bullet %j → %j', (markdown, expected) => {
    expect(markdownToMrkdwn(markdown)).toBe(expected);
  });

  it('converts a nested list keeping its shape', () => {
    const markdown = '- one\n  - one.a\n    - one.a.i\n- two';
    expect(markdownToMrkdwn(markdown)).toBe('• one\n  • one.a\n    • one.a.i\n• two');
  });

  it.each([
    ['1. first', '1. first'],
    ['2. **second**', '2. *second*'],
    ['10) tenth', '10) tenth'],
    ['   3. indented', '   3. indented'],
  ])('numbered %j → %j', (markdown, expected) => {
    expect(markdownToMrkdwn(markdown)).toBe(expected);
  });

  it.each([
    ['> quoted', '> quoted'],
    ['> **bold** in a quote', '> *bold* in a quote'],
    ['> a > b', '> a &gt; b'],
    ['> - bullet in a quote', '> • bullet in a quote'],
    ['>', '>'],
  ])('blockquote %j → %j', (markdown, expected) => {
    expect(markdownToMrkdwn(markdown)).toBe(expected);
  });

  it.each(['---', '***', '___', '- - -', '* * *', '----------'])('horizontal rule %j → ———', (markdown) => {
    expect(markdownToMrkdwn(markdown)).toBe('———');
  });

  it('keeps blank lines and CRLF line endings', () => {
    expect(markdownToMrkdwn('**a**\r\n\r\n- b\r\n')).toBe('*a*\r\n\r\n• b\r\n');
    expect(markdownToMrkdwn('a\n\n\nb')).toBe('a\n\n\nb');
  });
});

describe('markdownToMrkdwn: escaping', () => {
  it.each([
    ['a & b', 'a &amp; b'],
    ['a < b > c', 'a &lt; b &gt; c'],
    ['<b>html</b>', '&lt;b&gt;html&lt;/b&gt;'],
    ['<!channel> ping', '&lt;!channel&gt; ping'],
    ['<@U123>', '&lt;@U123&gt;'],
    ['already &amp; escaped', 'already &amp;amp; escaped'],
    ['x -> y', 'x -&gt; y'],
  ])('%j → %j', (markdown, expected) => {
    expect(markdownToMrkdwn(markdown)).toBe(expected);
  });

  it('escapes text but not the link it generates', () => {
    expect(markdownToMrkdwn('a < b, see [docs & more](https://example.com/?a=1&b=2) > c')).toBe(
      'a &lt; b, see <https://example.com/?a=1&amp;b=2|docs &amp; more> &gt; c',
    );
  });
});

describe('markdownToMrkdwn: a whole reply', () => {
  it('converts a typical model answer', () => {
    const markdown = [
      '# Deploying parley',
      '',
      'You need **three** things & a *little* patience:',
      '',
      '1. A Redis URL',
      '2. The [Slack app](https://api.slack.com/apps) credentials',
      '',
      '- set `SLACK_SIGNING_SECRET`',
      '  - never log it',
      '',
      '```bash',
      'export REDIS_URL=redis://localhost:6379 && npm start > out.log',
      '```',
      '',
      '> Tip: ~~restart~~ reload the worker.',
      '',
      '---',
      'Done! See https://example.com/docs_page.',
    ].join('\n');
    const expected = [
      '*Deploying parley*',
      '',
      'You need *three* things &amp; a _little_ patience:',
      '',
      '1. A Redis URL',
      '2. The <https://api.slack.com/apps|Slack app> credentials',
      '',
      '• set `SLACK_SIGNING_SECRET`',
      '  • never log it',
      '',
      '```',
      'export REDIS_URL=redis://localhost:6379 &amp;&amp; npm start &gt; out.log',
      '```',
      '',
      '> Tip: ~restart~ reload the worker.',
      '',
      '———',
      'Done! See https://example.com/docs_page.',
    ].join('\n');
    expect(markdownToMrkdwn(markdown)).toBe(expected);
  });

  it('returns an empty string for empty input', () => {
    expect(markdownToMrkdwn('')).toBe('');
  });
});

describe("Slack's <url|label> in other platforms' formats", () => {
  it('becomes their own link with its label', async () => {
    const { markdownToWhatsApp } = await import('../../adapters/whatsapp/format.js');
    const { markdownToIntercomHtml } = await import('../../adapters/intercom/markdown-html.js');
    expect(markdownToWhatsApp('see <https://fr.wikipedia.org|France>')).toBe(markdownToWhatsApp('see [France](https://fr.wikipedia.org)'));
    expect(markdownToIntercomHtml('see <https://fr.wikipedia.org|France>')).toBe(markdownToIntercomHtml('see [France](https://fr.wikipedia.org)'));
  });
});
