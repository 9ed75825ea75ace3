import { describe, expect, it } from 'vitest';
import { htmlToText } from '../../adapters/intercom/html-text.js';
import { markdownToIntercomHtml } from '../../adapters/intercom/markdown-html.js';

describe('htmlToText: Intercom bodies → plain text for the AI', () => {
  it.each([
    ['<p>Hello there</p>', 'Hello there'],
    ['<p>One</p><p>Two</p>', 'One\n\nTwo'],
    ['<p>line one<br>line two<br/>line three</p>', 'line one\nline two\nline three'],
    ['<p>  lots   of\n\n   space  </p>', 'lots of space'],
    ['<p>a <b>bold</b> and <i>italic</i> and <code>code</code></p>', 'a bold and italic and code'],
    ['<p>See <a href="https://example.com/docs?a=1&amp;b=2">the docs</a>.</p>', 'See the docs (https://example.com/docs?a=1&b=2).'],
    ['<p><a href="https://example.com">https://example.com</a></p>', 'https://example.com'],
    ['<p>Mail <a href="mailto:help@example.com">help@example.com</a></p>', 'Mail help@example.com'],
    ['<p><a href="https://example.com/empty"></a></p>', 'https://example.com/empty'],
    ['<p><a href="#top">top</a> <a href="javascript:alert(1)">x</a></p>', 'top x'],
    ['<ul><li>one</li><li>two</li></ul>', '- one\n- two'],
    ['<p>Steps:</p><ol><li>open</li><li>click</li></ol><p>Done</p>', 'Steps:\n\n1. open\n2. click\n\nDone'],
    ['<ol start="4"><li>four</li><li>five</li></ol>', '4. four\n5. five'],
    ['<ul><li>a<ul><li>a1</li></ul></li><li>b</li></ul>', '- a\n  - a1\n- b'],
    ['Intro<ul><li>x</li></ul>after', 'Intro\n\n- x\n\nafter'],
    // Items holding paragraphs or blocks (rich-text editors, emails): the text stays on its marker's line.
    ['<ol><li><p>Restarted the app</p></li><li><p>Cleared the cache</p></li></ol>', '1. Restarted the app\n\n2. Cleared the cache'],
    ['<ul><li><div>first</div></li><li><div>second</div></li></ul>', '- first\n- second'],
    ['<ul><li><p>a</p><ul><li><p>a1</p></li></ul></li></ul>', '- a\n\n  - a1'],
    // An empty item (or one holding only an image) keeps its marker alone: what follows the list is not its text.
    ['<ul><li>a</li><li><br></li></ul><p>I want to cancel</p>', '- a\n-\n\nI want to cancel'],
    ['<ul><li></li><li>b</li></ul>', '-\n- b'],
    ['<ul><li><ul><li>x</li></ul></li></ul>', '-\n  - x'],
    ['Tom &amp; Jerry &lt;3 &quot;hi&quot; &#39;yo&#39; caf&eacute; &#233; &#xE9; &hellip;', 'Tom & Jerry <3 "hi" \'yo\' café é é …'],
    // Every named reference a browser knows (an email body writes Latin letters this way); an unknown one stays as written.
    ['&ccedil;a va, &uuml;ber, se&ntilde;or, &Aring;se, &rsquo;s &bogus; &amp', 'ça va, über, señor, Åse, ’s &bogus; &'],
    ['&#0; &#x110000; &#xD800;', '\ufffd \ufffd \ufffd'],
    ['a&nbsp;b', 'a b'],
    ['<pre>  indented\n    code &lt;x&gt;</pre>', 'indented\n    code <x>'],
    ['<p>a</p><!-- hidden --><script>alert(1)</script><style>p{}</style><p>b</p>', 'a\n\nb'],
    ['<h2>Title</h2><div>block</div><div>another</div>', 'Title\n\nblock\nanother'],
    ['5 < 6 and 7 > 3', '5 < 6 and 7 > 3'],
    ['<p>broken <a href="x', 'broken <a href="x'],
    // Links do not nest, as a browser reads them: an <a> inside another ends that one first (and the last </a> closes nothing).
    ['<p><a href="https://a.example">one <a href="https://b.example">two</a> three</a></p>', 'one (https://a.example) two (https://b.example) three'],
    ['<p>See <a href="https://x.example">the docs </a>first</p>', 'See the docs (https://x.example) first'],
    ['<P CLASS="x">Upper</P>', 'Upper'],
    ['plain text, no tags', 'plain text, no tags'],
    ['', ''],
    ['<p></p><p> </p><br>', ''],
  ])('%j → %j', (html, expected) => {
    expect(htmlToText(html).text).toBe(expected);
  });

  it("keeps the links' labels but not their targets in what the customer wrote (handoff phrases are matched there)", () => {
    const payroll = htmlToText('<p>The <a href="https://help.example.com/human-resources/payroll">payroll page</a> gives a 404</p>');
    expect(payroll.text).toBe('The payroll page (https://help.example.com/human-resources/payroll) gives a 404');
    expect(payroll.written).toBe('The payroll page gives a 404');
    expect(htmlToText('<p>Ask <a href="/agents">an agent</a>, or <a href="mailto:human@example.com"></a></p>').written).toBe('Ask an agent, or');
    expect(htmlToText('<p>see <a href="https://x.com/agents">https://x.com/agents</a></p>').written).toBe('see https://x.com/agents'); // a bare address: the matcher drops it
  });

  it('collects inline images', () => {
    const { text, images } = htmlToText('<p>Look:</p><div class="intercom-container"><img src="https://downloads.intercomcdn.com/i/o/1/a.png?x=1&amp;y=2" alt=""></div>');
    expect(text).toBe('Look:');
    expect(images).toEqual(['https://downloads.intercomcdn.com/i/o/1/a.png?x=1&y=2']);
  });

  it('indents nested lists at most 8 levels: deep nesting writes text linear in the body (it was n² spaces, out of memory)', () => {
    const deep = (levels: number) => `${Array.from({ length: levels }, (_, i) => `<ul><li>l${i + 1}`).join('')}${'</li></ul>'.repeat(levels)}`;
    expect(htmlToText(deep(3)).text).toBe('- l1\n  - l2\n    - l3');
    expect(htmlToText(deep(12)).text.split('\n').slice(-4)).toEqual(['                - l9', '                - l10', '                - l11', '                - l12']);
    // 2,000 lists opened, then 2,000 items: 18 KB of HTML once wrote 8 million characters.
    const hostile = `${'<ul>'.repeat(2000)}${'<li>x'.repeat(2000)}`;
    expect(htmlToText(hostile).text.length).toBeLessThan(hostile.length * 3);
  });

  // A guard against a blocked process, not a speed figure: these take a fraction of a second, while
  // a scan restarted at each `<` or `&` would take minutes; 10 s leaves room for a loaded machine.
  it('stays linear on hostile input', () => {
    const hostile = ['<a "'.repeat(50_000), '<'.repeat(100_000), '<p>'.repeat(50_000), '<a href="y">x'.repeat(20_000), '<script>'.repeat(20_000), '&amp'.repeat(50_000), `<a x=${'a'.repeat(100_000)}`];
    const started = performance.now();
    for (const html of hostile) htmlToText(html);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe('markdownToIntercomHtml: the AI’s markdown → the HTML of a reply', () => {
  it.each([
    ['Hello', '<p>Hello</p>'],
    ['One\n\nTwo', '<p>One</p><p>Two</p>'],
    ['line one\nline two', '<p>line one<br>line two</p>'],
    ['**bold** and __bold__', '<p><b>bold</b> and <b>bold</b></p>'],
    ['*it* and _it_ but snake_case_name', '<p><i>it</i> and <i>it</i> but snake_case_name</p>'],
    ['***both***', '<p><b><i>both</i></b></p>'],
    ['**bold with *italic* inside**', '<p><b>bold with <i>italic</i> inside</b></p>'],
    ['2 * 3 * 4', '<p>2 * 3 * 4</p>'],
    // Arithmetic, not italics: the `*` would be lost.
    ['2*3*4 = 24 and x*y + y*z', '<p>2*3*4 = 24 and x*y + y*z</p>'],
    ['*a* (*b*) *c*.', '<p><i>a</i> (<i>b</i>) <i>c</i>.</p>'],
    ['これは*注意*してください', '<p>これは<i>注意</i>してください</p>'], // no spaces between words: still italics
    ['Rated ***** by users, **great**', '<p>Rated ***** by users, <b>great</b></p>'],
    ['password: ******** (hidden)', '<p>password: ******** (hidden)</p>'],
    ['card ending ****1234 and ****5678', '<p>card ending ****1234 and ****5678</p>'],
    ['`a < b`', '<p><code>a &lt; b</code></p>'],
    ['`**not bold**`', '<p><code>**not bold**</code></p>'],
    ['[the docs](https://example.com/a?b=1&c=2)', '<p><a href="https://example.com/a?b=1&amp;c=2">the docs</a></p>'],
    ['[**bold** link](https://x.io)', '<p><a href="https://x.io"><b>bold</b> link</a></p>'],
    ['[relative](/path) and [js](javascript:alert(1))', '<p>relative and js</p>'],
    ['see https://example.com/x.', '<p>see <a href="https://example.com/x">https://example.com/x</a>.</p>'],
    ['(https://example.com/a_(b))', '<p>(<a href="https://example.com/a_(b)">https://example.com/a_(b)</a>)</p>'],
    ['<https://x.io> <mailto:a@b.c>', '<p><a href="https://x.io">https://x.io</a> <a href="mailto:a@b.c">a@b.c</a></p>'],
    ['<script>alert("x")</script> & \'q\'', '<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;</p>'],
    ['\\*not italic\\*', '<p>*not italic*</p>'],
    ['# Title\ntext', '<p><b>Title</b></p><p>text</p>'],
    ['- one\n- two', '<ul><li>one</li><li>two</li></ul>'],
    ['* one\n+ two', '<ul><li>one</li><li>two</li></ul>'],
    ['1. one\n2. two', '<ol><li>one</li><li>two</li></ol>'],
    ['3. three\n4. four', '<ol start="3"><li>three</li><li>four</li></ol>'],
    ['- a\n  - a1\n- b', '<ul><li>a<ul><li>a1</li></ul></li><li>b</li></ul>'],
    ['- a\n\n- b', '<ul><li>a</li><li>b</li></ul>'],
    ['- a\n  more of a\n- b', '<ul><li>a<br>more of a</li><li>b</li></ul>'],
    ['Intro:\n- x\nAfter', '<p>Intro:</p><ul><li>x</li></ul><p>After</p>'],
    ['- x\n1. y', '<ul><li>x</li></ul><ol><li>y</li></ol>'],
    ['```js\nconst a = 1 < 2;\n\nreturn a;\n```\nafter', '<pre><code>const a = 1 &lt; 2;\n\nreturn a;</code></pre><p>after</p>'],
    ['```\nunclosed **code**', '<pre><code>unclosed **code**</code></pre>'],
    // A list item's code block, indented to the item's text: code, without that indentation.
    ['1. Install:\n   ```bash\n   brew install node\n   ```\n2. Run', '<ol><li>Install:</li></ol><pre><code>brew install node</code></pre><ol start="2"><li>Run</li></ol>'],
    ['- a\n  - b:\n    ```py\n    def __init__(self):\n        pass\n    ```', '<ul><li>a<ul><li>b:</li></ul></li></ul><pre><code>def __init__(self):\n    pass</code></pre>'],
    ['> quoted', '<p>quoted</p>'],
    ['above\n\n---\n\nbelow', '<p>above</p><p>below</p>'],
    ['above\n- - -\nbelow\n* * *\n- item', '<p>above</p><p>below</p><ul><li>item</li></ul>'],
    ['\uE0010\uE002 forged token', '<p>0 forged token</p>'],
    ['', ''],
    // Nothing to show once converted: an empty reply would be posted; shown as written instead.
    ['---', '<p>---</p>'],
    ['#', '<p>#</p>'],
    ['## ##', '<p>## ##</p>'],
    ['>', '<p>&gt;</p>'],
    ['```\n```', '<p>```\n```</p>'],
    ['- <b>', '<ul><li>&lt;b&gt;</li></ul>'],
  ])('%j → %j', (markdown, expected) => {
    expect(markdownToIntercomHtml(markdown)).toBe(expected);
  });
});
