/**
 * Linear-time scans for the markdown passes. A lazy pattern such as `\*\*(.+?)\*\*` run with
 * `String.replace` is retried from every opener, and an opener without a closer scans to the end
 * of the line: a reply of `**a **a **a …` or `[[[[…` took seconds. These helpers give the same
 * result as the plain `replace` but never scan the same tail twice.
 */

/** A link's `](url "title")` after its label, tried where the label's first `]` is. */
const linkTailPattern = /\]\(\s*(<[^<>]*>|(?:[^()\s]|\([^()\s]*\))+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/y;
/** What `.` does not match: a span's content stays within one line. */
const lineBreak = /([\n\r\u2028\u2029])/;

/**
 * `text.replace(linkPattern, …)` for `(!?)\[([^\]]*)\]` + the link tail. A label runs to its first
 * `]`, so every `[` before that `]` shares the same tail: when it fails for the first, it fails for
 * all of them, and the search goes on after the `]` (instead of from the next `[`).
 */
export function replaceLinks(text: string, replace: (label: string, target: string) => string): string {
  let output = '';
  let done = 0;
  for (let open = text.indexOf('['); open !== -1; ) {
    const close = text.indexOf(']', open + 1);
    if (close === -1) break;
    linkTailPattern.lastIndex = close;
    const tail = linkTailPattern.exec(text);
    if (!tail) {
      open = text.indexOf('[', close + 1);
      continue;
    }
    const start = open > done && text[open - 1] === '!' ? open - 1 : open; // an image's `!` is part of it
    output += text.slice(done, start) + replace(text.slice(open + 1, close), tail[1] ?? '');
    done = linkTailPattern.lastIndex;
    open = text.indexOf('[', done);
  }
  return output + text.slice(done);
}

/**
 * `text.replace(pattern, replace)` for a delimited span whose content stays on one line. `closer`
 * (global) matches where a span can end, whatever its opener (`(?<=\S)\*\*` for `**x**`); an
 * opener after a line's last closer cannot match, so the pattern runs only up to that closer.
 */
export function replaceSpans(
  text: string,
  pattern: RegExp,
  closer: RegExp,
  replace: (match: string, content: string) => string,
): string {
  return text
    .split(lineBreak)
    .map((line) => {
      const end = lastCloserEnd(line, closer);
      return end === 0 ? line : line.slice(0, end).replace(pattern, replace) + line.slice(end);
    })
    .join('');
}

/** Where the line's last closer ends (0 without one); closers may overlap (`***` holds two `**`). */
function lastCloserEnd(line: string, closer: RegExp): number {
  let end = 0;
  closer.lastIndex = 0;
  for (let found = closer.exec(line); found; found = closer.exec(line)) {
    end = Math.max(end, found.index + found[0].length);
    closer.lastIndex = found.index + 1;
  }
  return end;
}
