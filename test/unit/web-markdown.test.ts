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
  ])('%j', (text, expected) => {
    expect(render(text)).toBe(expected);
  });

  it.each([
    ['**a ', '**a '.repeat(N / 4)],
    ['*a ', '*a '.repeat(N / 3)],
    ['_a ', '_a '.repeat(N / 3)],
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
