/**
 * The web chat's markdown renderer (adapters/web/assets/markdown.js) on a fake DOM: ordinary
 * markdown, and the runs that made it quadratic (`**a `, `[a](` and blanks, a long fence or
 * heading line), each far past where the old code took minutes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { html, installFakeDocument } from '../helpers/fake-dom.js';

let markdown: (text: string) => unknown;
beforeAll(async () => {
  installFakeDocument();
  // @ts-expect-error -- browser JavaScript without types
  ({ markdown } = await import('../../adapters/web/assets/markdown.js'));
});
const render = (text: string) => html(markdown(text));
const N = 200_000;

describe('web chat markdown', () => {
  it.each([
    ['**bold** and *em* and __b__ and _i_ and `code`', '<p><strong>bold</strong> and <em>em</em> and <strong>b</strong> and <em>i</em> and <code>code</code></p>'],
    ['[see **this**](https://e.com/a_(b)) <https://e.com> https://e.com/x.', '<p><a href="https://e.com/a_(b)">see <strong>this</strong></a> <a href="https://e.com/">https://e.com/</a> <a href="https://e.com/x">https://e.com/x</a>.</p>'],
    ['[x]( https://e.com ) [y](javascript:alert(1))', '<p><a href="https://e.com/">x</a> [y](javascript:alert(1))</p>'],
    ['# Title ##\n- a\n- b\n\n> q\n```js\nx\n```', '<p class="heading"><strong>Title</strong></p><ul><li>a</li><li>b</li></ul><blockquote>q</blockquote><pre><code data-lang="js">x</code></pre>'],
    ['snake__case__name and a_b_c', '<p>snake__case__name and a_b_c</p>'],
    // Arithmetic is not italics (its `*` were lost); `\` escapes a mark; ***, ~~ and images show no stray marks.
    // A one-character span ends at its own closer, not the next span's (`<em>a* and *b</em>`).
    ['*a* and *b*, **c** and **d**, _e_ and _f_, __g__ and __h__', '<p><em>a</em> and <em>b</em>, <strong>c</strong> and <strong>d</strong>, <em>e</em> and <em>f</em>, <strong>g</strong> and <strong>h</strong></p>'],
    ['2*3*4 = 24 and x*y + y*z, *a* (*b*)', '<p>2*3*4 = 24 and x*y + y*z, <em>a</em> (<em>b</em>)</p>'],
    ['これは*注意*してください', '<p>これは<em>注意</em>してください</p>'], // no spaces between words: still italics
    ['\\*not italic\\* 1\\. \\# C:\\Users', '<p>*not italic* 1. # C:\\Users</p>'],
    ['***both*** ~~gone~~ ![alt](https://e.com/a.png)', '<p><strong><em>both</em></strong> <del>gone</del> <a href="https://e.com/a.png">alt</a></p>'],
    ['https://e.com/wiki/A_(b), (https://e.com/c)', '<p><a href="https://e.com/wiki/A_(b)">https://e.com/wiki/A_(b)</a>, (<a href="https://e.com/c">https://e.com/c</a>)</p>'],
    // A list item's code block is code, not the item's text with its fences showing.
    ['1. Install:\n   ```bash\n   brew install node\n   ```\n2. Run', '<ol><li>Install:</li></ol><pre><code data-lang="bash">brew install node</code></pre><ol start="2"><li>Run</li></ol>'],
    ['- a:\n    ```py\n    def f():\n        pass\n    ```', '<ul><li>a:</li></ul><pre><code data-lang="py">def f():\n    pass</code></pre>'],
  ])('%j', (text, expected) => {
    expect(render(text)).toBe(expected);
  });

  it.each([
    ['**a ', '**a '.repeat(N / 4)],
    ['*a ', '*a '.repeat(N / 3)],
    ['_a ', '_a '.repeat(N / 3)],
    ['~~a ', '~~a '.repeat(N / 4)],
    ['http://(', 'http://('.repeat(N / 8)],
    ['[', '['.repeat(N)],
    ['[a]( and blanks', `[a](${' '.repeat(N)}`],
  ])('a run of %j stays text', (_name, text) => {
    expect(render(text) === `<p>${text}</p>`).toBe(true);
  });

  it('converts the spans before such a run', () => {
    const tail = '**a '.repeat(N / 4);
    expect(render(`**b** ${tail}`) === `<p><strong>b</strong> ${tail}</p>`).toBe(true);
  });

  it('a long fence line with a backtick, a heading or an item with a long run of blanks', () => {
    const line = `\`\`\`${'a'.repeat(N)}\``;
    expect(render(line) === `<p>\`\`<code>${'a'.repeat(N)}</code></p>`).toBe(true); // no fence: a backtick follows
    const blanks = ' '.repeat(N);
    expect(render(`# a${blanks}x`) === `<p class="heading"><strong>a${blanks}x</strong></p>`).toBe(true);
    expect(render(`-${blanks}a\u2028b`) === `<p>-${blanks}a\u2028b</p>`).toBe(true);
  });
});
